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

export type ExampleEnqueueTasksMutationVariables = Exact<{
  inputs: Array<EnqueueTaskInput> | EnqueueTaskInput;
}>;


export type ExampleEnqueueTasksMutation = { enqueueTasks: Array<{ created: boolean, task: { id: string, type: string, status: TaskStatus, priority: number, region: string | null, format: string | null } }> };

export type ExampleEnqueueTaskMutationVariables = Exact<{
  input: EnqueueTaskInput;
}>;


export type ExampleEnqueueTaskMutation = { enqueueTask: { created: boolean, task: { id: string, type: string, status: TaskStatus, priority: number, region: string | null, format: string | null, dependsOn: Array<{ id: string }> } } };

export type ExampleWatchTaskSubscriptionVariables = Exact<{
  id: string | number;
}>;


export type ExampleWatchTaskSubscription = { taskUpdated: { id: string, type: string, status: TaskStatus, attempts: number, maxAttempts: number, progress: number | null, progressMessage: string | null, errorMessage: string | null, result: unknown } };

export type ExampleWatchLogsSubscriptionVariables = Exact<{
  taskId: string | number;
}>;


export type ExampleWatchLogsSubscription = { taskLogAdded: { at: string, level: LogLevel, message: string } };

export type ExampleQueueStatsQueryVariables = Exact<{
  queue?: string | null | undefined;
}>;


export type ExampleQueueStatsQuery = { queueStats: { counts: Array<{ status: TaskStatus, count: number }> } };

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

export const ExampleEnqueueTasksDocument = new TypedDocumentString(`
    mutation ExampleEnqueueTasks($inputs: [EnqueueTaskInput!]!) {
  enqueueTasks(inputs: $inputs) {
    created
    task {
      id
      type
      status
      priority
      region
      format
    }
  }
}
    `) as unknown as TypedDocumentString<ExampleEnqueueTasksMutation, ExampleEnqueueTasksMutationVariables>;
export const ExampleEnqueueTaskDocument = new TypedDocumentString(`
    mutation ExampleEnqueueTask($input: EnqueueTaskInput!) {
  enqueueTask(input: $input) {
    created
    task {
      id
      type
      status
      priority
      region
      format
      dependsOn {
        id
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ExampleEnqueueTaskMutation, ExampleEnqueueTaskMutationVariables>;
export const ExampleWatchTaskDocument = new TypedDocumentString(`
    subscription ExampleWatchTask($id: ID!) {
  taskUpdated(id: $id) {
    id
    type
    status
    attempts
    maxAttempts
    progress
    progressMessage
    errorMessage
    result
  }
}
    `) as unknown as TypedDocumentString<ExampleWatchTaskSubscription, ExampleWatchTaskSubscriptionVariables>;
export const ExampleWatchLogsDocument = new TypedDocumentString(`
    subscription ExampleWatchLogs($taskId: ID!) {
  taskLogAdded(taskId: $taskId) {
    at
    level
    message
  }
}
    `) as unknown as TypedDocumentString<ExampleWatchLogsSubscription, ExampleWatchLogsSubscriptionVariables>;
export const ExampleQueueStatsDocument = new TypedDocumentString(`
    query ExampleQueueStats($queue: String) {
  queueStats(queue: $queue) {
    counts {
      status
      count
    }
  }
}
    `) as unknown as TypedDocumentString<ExampleQueueStatsQuery, ExampleQueueStatsQueryVariables>;