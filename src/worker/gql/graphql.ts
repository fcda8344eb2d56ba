/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type AppendTaskLogInput = {
  details?: unknown;
  /** When given, the log is accepted only while this lease is held. */
  leaseToken?: string | null | undefined;
  level: LogLevel;
  message: string;
  taskId: string | number;
};

export type ClaimStrategy =
  | 'FIFO'
  | 'LIFO'
  | 'PRIORITY'
  | 'WEIGHTED_RANDOM';

export type ClaimTasksInput = {
  /** Matched against each task's compatibility (region, formats). */
  capabilities?: unknown;
  /** Default 30. */
  leaseSeconds?: number | null | undefined;
  /** Default 1. */
  limit?: number | null | undefined;
  /** Default "default". */
  queue?: string | null | undefined;
  /** Default PRIORITY. */
  strategy?: ClaimStrategy | null | undefined;
  /** Only these task types. */
  types?: Array<string> | null | undefined;
  /** Long-poll: hold the request until work arrives or this passes. */
  waitSeconds?: number | null | undefined;
  workerId: string;
};

export type CompleteTaskInput = {
  leaseToken: string;
  result?: unknown;
  taskId: string | number;
};

export type FailTaskInput = {
  error: string;
  leaseToken: string;
  /** Overrides the backoff for this retry. */
  retryAfterSeconds?: number | null | undefined;
  /** Default true; false sends the task straight to FAILED. */
  retryable?: boolean | null | undefined;
  taskId: string | number;
};

export type HeartbeatInput = {
  capabilities?: unknown;
  extendSeconds?: number | null | undefined;
  leases?: Array<LeaseInput> | null | undefined;
  workerId: string;
};

export type LeaseInput = {
  leaseToken: string;
  taskId: string | number;
};

export type LogLevel =
  | 'DEBUG'
  | 'ERROR'
  | 'INFO'
  | 'WARN';

export type MetadataMode =
  /** JSON Merge Patch: objects merge key by key, a null removes its key. */
  | 'MERGE'
  /** Replaces the whole object. */
  | 'SET';

export type ReportProgressInput = {
  leaseToken: string;
  message?: string | null | undefined;
  progress: number;
  taskId: string | number;
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

export type UpdateTaskMetadataInput = {
  leaseToken: string;
  metadata: unknown;
  /** Default MERGE. */
  mode?: MetadataMode | null | undefined;
  taskId: string | number;
};

export type WorkerTaskFieldsFragment = { id: string, type: string, queue: string, payload: unknown, priority: number, attempts: number, maxAttempts: number, compatibility: unknown, region: string | null, format: string | null, correlationId: string | null, timeoutSeconds: number | null, createdAt: string };

export type WorkerClaimTasksMutationVariables = Exact<{
  input: ClaimTasksInput;
}>;


export type WorkerClaimTasksMutation = { claimTasks: Array<{ leaseToken: string, leaseUntil: string, task: { id: string, type: string, queue: string, payload: unknown, priority: number, attempts: number, maxAttempts: number, compatibility: unknown, region: string | null, format: string | null, correlationId: string | null, timeoutSeconds: number | null, createdAt: string } }> };

export type WorkerHeartbeatMutationVariables = Exact<{
  input: HeartbeatInput;
}>;


export type WorkerHeartbeatMutation = { heartbeat: { leases: Array<{ taskId: string, lost: boolean, cancelRequested: boolean, leaseUntil: string | null }> } };

export type WorkerReportProgressMutationVariables = Exact<{
  input: ReportProgressInput;
}>;


export type WorkerReportProgressMutation = { reportProgress: { id: string, cancelRequested: boolean } };

export type WorkerUpdateTaskMetadataMutationVariables = Exact<{
  input: UpdateTaskMetadataInput;
}>;


export type WorkerUpdateTaskMetadataMutation = { updateTaskMetadata: { id: string } };

export type WorkerAppendTaskLogMutationVariables = Exact<{
  input: AppendTaskLogInput;
}>;


export type WorkerAppendTaskLogMutation = { appendTaskLog: { id: string } };

export type WorkerCompleteTaskMutationVariables = Exact<{
  input: CompleteTaskInput;
}>;


export type WorkerCompleteTaskMutation = { completeTask: { id: string, status: TaskStatus, attempts: number } };

export type WorkerFailTaskMutationVariables = Exact<{
  input: FailTaskInput;
}>;


export type WorkerFailTaskMutation = { failTask: { id: string, status: TaskStatus, attempts: number, runAfter: string } };

export type WorkerCompleteTasksMutationVariables = Exact<{
  inputs: Array<CompleteTaskInput> | CompleteTaskInput;
}>;


export type WorkerCompleteTasksMutation = { completeTasks: Array<{ id: string, status: TaskStatus, attempts: number }> };

export type WorkerFailTasksMutationVariables = Exact<{
  inputs: Array<FailTaskInput> | FailTaskInput;
}>;


export type WorkerFailTasksMutation = { failTasks: Array<{ id: string, status: TaskStatus, attempts: number, runAfter: string }> };

export type WorkerReleaseTasksMutationVariables = Exact<{
  inputs: Array<LeaseInput> | LeaseInput;
}>;


export type WorkerReleaseTasksMutation = { releaseTasks: Array<{ id: string, status: TaskStatus }> };

export type WorkerTaskOutcomeQueryVariables = Exact<{
  id: string | number;
}>;


export type WorkerTaskOutcomeQuery = { task: { id: string, status: TaskStatus, attempts: number } | null };

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
export const WorkerTaskFieldsFragmentDoc = new TypedDocumentString(`
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
    `, {"fragmentName":"WorkerTaskFields"}) as unknown as TypedDocumentString<WorkerTaskFieldsFragment, unknown>;
export const WorkerClaimTasksDocument = new TypedDocumentString(`
    mutation WorkerClaimTasks($input: ClaimTasksInput!) {
  claimTasks(input: $input) {
    leaseToken
    leaseUntil
    task {
      ...WorkerTaskFields
    }
  }
}
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
}`) as unknown as TypedDocumentString<WorkerClaimTasksMutation, WorkerClaimTasksMutationVariables>;
export const WorkerHeartbeatDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<WorkerHeartbeatMutation, WorkerHeartbeatMutationVariables>;
export const WorkerReportProgressDocument = new TypedDocumentString(`
    mutation WorkerReportProgress($input: ReportProgressInput!) {
  reportProgress(input: $input) {
    id
    cancelRequested
  }
}
    `) as unknown as TypedDocumentString<WorkerReportProgressMutation, WorkerReportProgressMutationVariables>;
export const WorkerUpdateTaskMetadataDocument = new TypedDocumentString(`
    mutation WorkerUpdateTaskMetadata($input: UpdateTaskMetadataInput!) {
  updateTaskMetadata(input: $input) {
    id
  }
}
    `) as unknown as TypedDocumentString<WorkerUpdateTaskMetadataMutation, WorkerUpdateTaskMetadataMutationVariables>;
export const WorkerAppendTaskLogDocument = new TypedDocumentString(`
    mutation WorkerAppendTaskLog($input: AppendTaskLogInput!) {
  appendTaskLog(input: $input) {
    id
  }
}
    `) as unknown as TypedDocumentString<WorkerAppendTaskLogMutation, WorkerAppendTaskLogMutationVariables>;
export const WorkerCompleteTaskDocument = new TypedDocumentString(`
    mutation WorkerCompleteTask($input: CompleteTaskInput!) {
  completeTask(input: $input) {
    id
    status
    attempts
  }
}
    `) as unknown as TypedDocumentString<WorkerCompleteTaskMutation, WorkerCompleteTaskMutationVariables>;
export const WorkerFailTaskDocument = new TypedDocumentString(`
    mutation WorkerFailTask($input: FailTaskInput!) {
  failTask(input: $input) {
    id
    status
    attempts
    runAfter
  }
}
    `) as unknown as TypedDocumentString<WorkerFailTaskMutation, WorkerFailTaskMutationVariables>;
export const WorkerCompleteTasksDocument = new TypedDocumentString(`
    mutation WorkerCompleteTasks($inputs: [CompleteTaskInput!]!) {
  completeTasks(inputs: $inputs) {
    id
    status
    attempts
  }
}
    `) as unknown as TypedDocumentString<WorkerCompleteTasksMutation, WorkerCompleteTasksMutationVariables>;
export const WorkerFailTasksDocument = new TypedDocumentString(`
    mutation WorkerFailTasks($inputs: [FailTaskInput!]!) {
  failTasks(inputs: $inputs) {
    id
    status
    attempts
    runAfter
  }
}
    `) as unknown as TypedDocumentString<WorkerFailTasksMutation, WorkerFailTasksMutationVariables>;
export const WorkerReleaseTasksDocument = new TypedDocumentString(`
    mutation WorkerReleaseTasks($inputs: [LeaseInput!]!) {
  releaseTasks(inputs: $inputs) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<WorkerReleaseTasksMutation, WorkerReleaseTasksMutationVariables>;
export const WorkerTaskOutcomeDocument = new TypedDocumentString(`
    query WorkerTaskOutcome($id: ID!) {
  task(id: $id) {
    id
    status
    attempts
  }
}
    `) as unknown as TypedDocumentString<WorkerTaskOutcomeQuery, WorkerTaskOutcomeQueryVariables>;