/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type DuplicatePolicy =
  | 'DEBOUNCE'
  | 'REPLACE'
  | 'RETURN_EXISTING';

export type EnqueueTaskInput = {
  /** Default {}. */
  compatibility?: unknown;
  correlationId?: string | null | undefined;
  delaySeconds?: number | null | undefined;
  /** The task stays BLOCKED until all of these SUCCEEDED. */
  dependsOn?: Array<string | number> | null | undefined;
  /** The same key again returns the existing task, with created = false (see onDuplicate). */
  idempotencyKey?: string | null | undefined;
  /** Default 5. */
  maxAttempts?: number | null | undefined;
  /** DEBOUNCE's cap: the task runs at most this long after its first enqueue. */
  maxDelaySeconds?: number | null | undefined;
  /** When idempotencyKey names a task already. RETURN_EXISTING (default): returned as it is. REPLACE: a still-QUEUED (or BLOCKED) one takes this payload (and priority, if given). DEBOUNCE: that, and its runAfter moves to this enqueue's, at most maxDelaySeconds after its first enqueue. A task that started is returned as it is. */
  onDuplicate?: DuplicatePolicy | null | undefined;
  payload: unknown;
  /** Default 100; lower runs first. */
  priority?: number | null | undefined;
  /** Default "default". */
  queue?: string | null | undefined;
  /** Default now. */
  runAfter?: string | null | undefined;
  timeoutSeconds?: number | null | undefined;
  type: string;
};

export type LogLevel =
  | 'DEBUG'
  | 'ERROR'
  | 'INFO'
  | 'WARN';

export type TaskEventKind =
  | 'CANCELLED'
  | 'CANCEL_REQUESTED'
  | 'CLAIMED'
  | 'ENQUEUED'
  | 'FAILED'
  | 'LEASE_EXPIRED'
  | 'METADATA'
  | 'PROGRESS'
  | 'RELEASED'
  | 'REQUEUED'
  | 'RETRY_SCHEDULED'
  | 'SUCCEEDED'
  | 'TIMED_OUT'
  | 'UNBLOCKED'
  | 'UPDATED';

export type TaskFilter = {
  correlationId?: string | null | undefined;
  createdAfter?: string | null | undefined;
  createdBefore?: string | null | undefined;
  /** Served by the index on the generated format column. */
  format?: Array<string> | null | undefined;
  idempotencyKey?: string | null | undefined;
  queue?: string | null | undefined;
  /** Served by the index on the generated region column. */
  region?: Array<string> | null | undefined;
  status?: Array<TaskStatus> | null | undefined;
  type?: Array<string> | null | undefined;
};

export type TaskStatus =
  /** Waiting for the tasks it depends on. */
  | 'BLOCKED'
  | 'CANCELLED'
  /** Terminal: attempts exhausted or not retryable (the dead-letter set). */
  | 'FAILED'
  /** Ready, or waiting for runAfter. */
  | 'QUEUED'
  /** Claimed by a worker under a lease. */
  | 'RUNNING'
  | 'SUCCEEDED';

export type ClientTaskFieldsFragment = { id: string, type: string, queue: string, status: TaskStatus, payload: unknown, result: unknown, errorMessage: string | null, progress: number | null, progressMessage: string | null, metadata: unknown, attempts: number, maxAttempts: number, priority: number, correlationId: string | null, cancelRequested: boolean, createdAt: string, updatedAt: string, runAfter: string, startedAt: string | null, finishedAt: string | null };

export type ClientLogFieldsFragment = { id: string, at: string, level: LogLevel, message: string, details: unknown };

export type ClientEnqueueMutationVariables = Exact<{
  input: EnqueueTaskInput;
}>;


export type ClientEnqueueMutation = { enqueueTask: { created: boolean, task: { id: string, type: string, queue: string, status: TaskStatus, payload: unknown, result: unknown, errorMessage: string | null, progress: number | null, progressMessage: string | null, metadata: unknown, attempts: number, maxAttempts: number, priority: number, correlationId: string | null, cancelRequested: boolean, createdAt: string, updatedAt: string, runAfter: string, startedAt: string | null, finishedAt: string | null } } };

export type ClientTaskQueryVariables = Exact<{
  id: string | number;
}>;


export type ClientTaskQuery = { task: { id: string, type: string, queue: string, status: TaskStatus, payload: unknown, result: unknown, errorMessage: string | null, progress: number | null, progressMessage: string | null, metadata: unknown, attempts: number, maxAttempts: number, priority: number, correlationId: string | null, cancelRequested: boolean, createdAt: string, updatedAt: string, runAfter: string, startedAt: string | null, finishedAt: string | null } | null };

export type ClientTasksSnapshotQueryVariables = Exact<{
  filter?: TaskFilter | null | undefined;
  first?: number | null | undefined;
}>;


export type ClientTasksSnapshotQuery = { lastEventCursor: string, tasks: { edges: Array<{ node: { id: string, type: string, queue: string, status: TaskStatus, payload: unknown, result: unknown, errorMessage: string | null, progress: number | null, progressMessage: string | null, metadata: unknown, attempts: number, maxAttempts: number, priority: number, correlationId: string | null, cancelRequested: boolean, createdAt: string, updatedAt: string, runAfter: string, startedAt: string | null, finishedAt: string | null } }> } };

export type ClientTaskUpdatedSubscriptionVariables = Exact<{
  id: string | number;
}>;


export type ClientTaskUpdatedSubscription = { taskUpdated: { id: string, type: string, queue: string, status: TaskStatus, payload: unknown, result: unknown, errorMessage: string | null, progress: number | null, progressMessage: string | null, metadata: unknown, attempts: number, maxAttempts: number, priority: number, correlationId: string | null, cancelRequested: boolean, createdAt: string, updatedAt: string, runAfter: string, startedAt: string | null, finishedAt: string | null } };

export type ClientTaskEventsSubscriptionVariables = Exact<{
  filter?: TaskFilter | null | undefined;
  after?: string | null | undefined;
}>;


export type ClientTaskEventsSubscription = { taskEvents: { cursor: string, kind: TaskEventKind, at: string, task: { id: string, type: string, queue: string, status: TaskStatus, payload: unknown, result: unknown, errorMessage: string | null, progress: number | null, progressMessage: string | null, metadata: unknown, attempts: number, maxAttempts: number, priority: number, correlationId: string | null, cancelRequested: boolean, createdAt: string, updatedAt: string, runAfter: string, startedAt: string | null, finishedAt: string | null } } };

export type ClientTaskLogsQueryVariables = Exact<{
  id: string | number;
  after?: string | null | undefined;
}>;


export type ClientTaskLogsQuery = { task: { id: string, logs: { edges: Array<{ cursor: string, node: { id: string, at: string, level: LogLevel, message: string, details: unknown } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } } | null };

export type ClientTaskLogAddedSubscriptionVariables = Exact<{
  taskId: string | number;
}>;


export type ClientTaskLogAddedSubscription = { taskLogAdded: { id: string, at: string, level: LogLevel, message: string, details: unknown } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const ClientTaskFieldsFragmentDoc = new TypedDocumentString(`
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
    `, {"fragmentName":"ClientTaskFields"}) as unknown as TypedDocumentString<ClientTaskFieldsFragment, unknown>;
export const ClientLogFieldsFragmentDoc = new TypedDocumentString(`
    fragment ClientLogFields on TaskLog {
  id
  at
  level
  message
  details
}
    `, {"fragmentName":"ClientLogFields"}) as unknown as TypedDocumentString<ClientLogFieldsFragment, unknown>;
export const ClientEnqueueDocument = new TypedDocumentString(`
    mutation ClientEnqueue($input: EnqueueTaskInput!) {
  enqueueTask(input: $input) {
    created
    task {
      ...ClientTaskFields
    }
  }
}
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
}`) as unknown as TypedDocumentString<ClientEnqueueMutation, ClientEnqueueMutationVariables>;
export const ClientTaskDocument = new TypedDocumentString(`
    query ClientTask($id: ID!) {
  task(id: $id) {
    ...ClientTaskFields
  }
}
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
}`) as unknown as TypedDocumentString<ClientTaskQuery, ClientTaskQueryVariables>;
export const ClientTasksSnapshotDocument = new TypedDocumentString(`
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
}`) as unknown as TypedDocumentString<ClientTasksSnapshotQuery, ClientTasksSnapshotQueryVariables>;
export const ClientTaskUpdatedDocument = new TypedDocumentString(`
    subscription ClientTaskUpdated($id: ID!) {
  taskUpdated(id: $id) {
    ...ClientTaskFields
  }
}
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
}`) as unknown as TypedDocumentString<ClientTaskUpdatedSubscription, ClientTaskUpdatedSubscriptionVariables>;
export const ClientTaskEventsDocument = new TypedDocumentString(`
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
}`) as unknown as TypedDocumentString<ClientTaskEventsSubscription, ClientTaskEventsSubscriptionVariables>;
export const ClientTaskLogsDocument = new TypedDocumentString(`
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
    fragment ClientLogFields on TaskLog {
  id
  at
  level
  message
  details
}`) as unknown as TypedDocumentString<ClientTaskLogsQuery, ClientTaskLogsQueryVariables>;
export const ClientTaskLogAddedDocument = new TypedDocumentString(`
    subscription ClientTaskLogAdded($taskId: ID!) {
  taskLogAdded(taskId: $taskId) {
    ...ClientLogFields
  }
}
    fragment ClientLogFields on TaskLog {
  id
  at
  level
  message
  details
}`) as unknown as TypedDocumentString<ClientTaskLogAddedSubscription, ClientTaskLogAddedSubscriptionVariables>;