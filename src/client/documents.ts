/**
 * The operations the browser client sends. `npm run codegen` turns each `graphql(...)`
 * below into a typed document in ./gql/ (test/worker/codegen.test.ts fails on drift).
 */
import { graphql } from './gql/index.js';

export const ClientTaskFields = graphql(`
  fragment ClientTaskFields on Task {
    id
    type
    queue
    status
    payload
    result
    errorMessage
    progress
    progressMessage
    metadata
    attempts
    maxAttempts
    priority
    correlationId
    cancelRequested
    createdAt
    updatedAt
    runAfter
    startedAt
    finishedAt
  }
`);

export const ClientLogFields = graphql(`
  fragment ClientLogFields on TaskLog {
    id
    at
    level
    message
    details
  }
`);

export const EnqueueMutation = graphql(`
  mutation ClientEnqueue($input: EnqueueTaskInput!) {
    enqueueTask(input: $input) {
      created
      task {
        ...ClientTaskFields
      }
    }
  }
`);

export const TaskQuery = graphql(`
  query ClientTask($id: ID!) {
    task(id: $id) {
      ...ClientTaskFields
    }
  }
`);

/** The snapshot and the cursor it is valid at, in one request: nothing between them is missed. */
export const TasksSnapshotQuery = graphql(`
  query ClientTasksSnapshot($filter: TaskFilter, $first: Int) {
    lastEventCursor
    tasks(filter: $filter, first: $first) {
      edges {
        node {
          ...ClientTaskFields
        }
      }
    }
  }
`);

export const TaskUpdatedSubscription = graphql(`
  subscription ClientTaskUpdated($id: ID!) {
    taskUpdated(id: $id) {
      ...ClientTaskFields
    }
  }
`);

export const TaskEventsSubscription = graphql(`
  subscription ClientTaskEvents($filter: TaskFilter, $after: String) {
    taskEvents(filter: $filter, after: $after) {
      cursor
      kind
      at
      task {
        ...ClientTaskFields
      }
    }
  }
`);

export const LogsQuery = graphql(`
  query ClientTaskLogs($id: ID!, $after: String) {
    task(id: $id) {
      id
      logs(first: 500, after: $after) {
        edges {
          cursor
          node {
            ...ClientLogFields
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

export const LogAddedSubscription = graphql(`
  subscription ClientTaskLogAdded($taskId: ID!) {
    taskLogAdded(taskId: $taskId) {
      ...ClientLogFields
    }
  }
`);
