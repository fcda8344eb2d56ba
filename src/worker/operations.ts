import { graphql } from './gql/index.js';

export const ClaimTasksMutation = graphql(`
  mutation WorkerClaimTasks($input: ClaimTasksInput!) {
    claimTasks(input: $input) {
      leaseToken
      leaseUntil
      task {
        id
        type
        queue
        payload
      }
    }
  }
`);
