/**
 * The operations the worker runner sends. `npm run codegen` turns each `graphql(...)`
 * below into a typed document in ./gql/ (keep the text in sync by running it).
 */
import { graphql } from './gql/index.js';

export const WorkerTaskFields = graphql(`
  fragment WorkerTaskFields on Task {
    id
    type
    queue
    payload
    priority
    attempts
    maxAttempts
    compatibility
    region
    format
    correlationId
    timeoutSeconds
    createdAt
  }
`);

export const ClaimTasksMutation = graphql(`
  mutation WorkerClaimTasks($input: ClaimTasksInput!) {
    claimTasks(input: $input) {
      leaseToken
      leaseUntil
      task {
        ...WorkerTaskFields
      }
    }
  }
`);

export const HeartbeatMutation = graphql(`
  mutation WorkerHeartbeat($input: HeartbeatInput!) {
    heartbeat(input: $input) {
      leases {
        taskId
        lost
        cancelRequested
        leaseUntil
      }
    }
  }
`);

export const ReportProgressMutation = graphql(`
  mutation WorkerReportProgress($input: ReportProgressInput!) {
    reportProgress(input: $input) {
      id
      cancelRequested
    }
  }
`);

export const UpdateTaskMetadataMutation = graphql(`
  mutation WorkerUpdateTaskMetadata($input: UpdateTaskMetadataInput!) {
    updateTaskMetadata(input: $input) {
      id
    }
  }
`);

export const AppendTaskLogMutation = graphql(`
  mutation WorkerAppendTaskLog($input: AppendTaskLogInput!) {
    appendTaskLog(input: $input) {
      id
    }
  }
`);

export const CompleteTaskMutation = graphql(`
  mutation WorkerCompleteTask($input: CompleteTaskInput!) {
    completeTask(input: $input) {
      id
      status
      attempts
    }
  }
`);

export const FailTaskMutation = graphql(`
  mutation WorkerFailTask($input: FailTaskInput!) {
    failTask(input: $input) {
      id
      status
      attempts
      runAfter
    }
  }
`);

/** Outcomes of one turn, sent together (see batch.ts); the fields match the single mutations'. */
export const CompleteTasksMutation = graphql(`
  mutation WorkerCompleteTasks($inputs: [CompleteTaskInput!]!) {
    completeTasks(inputs: $inputs) {
      id
      status
      attempts
    }
  }
`);

export const FailTasksMutation = graphql(`
  mutation WorkerFailTasks($inputs: [FailTaskInput!]!) {
    failTasks(inputs: $inputs) {
      id
      status
      attempts
      runAfter
    }
  }
`);

/** Prefetched tasks that never started, given back at stop. */
export const ReleaseTasksMutation = graphql(`
  mutation WorkerReleaseTasks($inputs: [LeaseInput!]!) {
    releaseTasks(inputs: $inputs) {
      id
      status
    }
  }
`);

/** After an ambiguous LEASE_LOST: did our own completion get there first? */
export const TaskOutcomeQuery = graphql(`
  query WorkerTaskOutcome($id: ID!) {
    task(id: $id) {
      id
      status
      attempts
    }
  }
`);
