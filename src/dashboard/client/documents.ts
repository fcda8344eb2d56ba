/** The GraphQL operations the dashboard runs, and the shapes they return. */

export type TaskStatus = 'BLOCKED' | 'CANCELLED' | 'FAILED' | 'QUEUED' | 'RUNNING' | 'SUCCEEDED';
export const STATUSES: readonly TaskStatus[] = ['QUEUED', 'RUNNING', 'BLOCKED', 'SUCCEEDED', 'FAILED', 'CANCELLED'];

/** What a table row shows; every task event carries it. */
export interface TaskFields {
  id: string;
  status: TaskStatus;
  progress: number | null;
  progressMessage: string | null;
  type: string;
  queue: string;
  region: string | null;
  format: string | null;
  attempts: number;
  maxAttempts: number;
  cancelRequested: boolean;
  createdAt: string;
  updatedAt: string;
  lockedBy: { id: string } | null;
}

export interface TaskDetailFields extends TaskFields {
  priority: number;
  payload: unknown;
  result: unknown;
  errorMessage: string | null;
  compatibility: unknown;
  idempotencyKey: string | null;
  correlationId: string | null;
  timeoutSeconds: number | null;
  runAfter: string;
  startedAt: string | null;
  finishedAt: string | null;
  leaseUntil: string | null;
}

export interface TaskEvent {
  cursor: string;
  kind: string;
  at: string;
  task: TaskFields;
}

export interface TaskLog {
  id: string;
  at: string;
  level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  message: string;
  details: unknown;
}

export interface QueueStats {
  counts: { status: TaskStatus; count: number }[];
  byType: { type: string; queued: number; running: number; succeeded: number; failed: number }[];
  activeWorkers: number;
  succeededLastMinute: number;
  failedLastMinute: number;
  oldestQueuedAgeSeconds: number | null;
}

export interface Worker {
  id: string;
  status: 'ACTIVE' | 'STALE' | 'STOPPED';
  capabilities: Record<string, unknown>;
  heartbeatAt: string;
  startedAt: string;
}

/** Server-side filter (the `TaskFilter` input); absent fields match everything. */
export interface TaskFilter {
  status?: TaskStatus[];
  type?: string[];
  region?: string[];
  format?: string[];
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

const TASK_FIELDS = /* GraphQL */ `
  fragment TaskFields on Task {
    id status progress progressMessage type queue region format
    attempts maxAttempts cancelRequested createdAt updatedAt
    lockedBy { id }
  }`;

const TASK_DETAIL_FIELDS = /* GraphQL */ `
  fragment TaskDetailFields on Task {
    ...TaskFields
    priority payload result errorMessage compatibility idempotencyKey correlationId
    timeoutSeconds runAfter startedAt finishedAt leaseUntil
  }
  ${TASK_FIELDS}`;

const LOG_FIELDS = /* GraphQL */ `
  fragment LogFields on TaskLog { id at level message details }`;

const WORKER_FIELDS = /* GraphQL */ `
  fragment WorkerFields on Worker { id status capabilities heartbeatAt startedAt }`;

export const TASKS_QUERY = /* GraphQL */ `
  query DashboardTasks($filter: TaskFilter, $first: Int!, $after: String) {
    tasks(filter: $filter, first: $first, after: $after) {
      edges { cursor node { ...TaskFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
  ${TASK_FIELDS}`;
export interface TasksResult {
  tasks: { edges: { cursor: string; node: TaskFields }[]; pageInfo: PageInfo };
}

export const TASK_EVENTS_SUBSCRIPTION = /* GraphQL */ `
  subscription DashboardTaskEvents($after: String) {
    taskEvents(after: $after) { cursor kind at task { ...TaskFields } }
  }
  ${TASK_FIELDS}`;
export interface TaskEventsResult {
  taskEvents: TaskEvent;
}

export const QUEUE_STATS_SUBSCRIPTION = /* GraphQL */ `
  subscription DashboardQueueStats {
    queueStatsUpdated {
      counts { status count }
      byType { type queued running succeeded failed }
      activeWorkers succeededLastMinute failedLastMinute oldestQueuedAgeSeconds
    }
  }`;
export interface QueueStatsResult {
  queueStatsUpdated: QueueStats;
}

export interface QueuePause {
  queue: string;
  type: string | null;
  pausedAt: string | null;
}

export const PAUSED_QUERY = /* GraphQL */ `
  query DashboardPaused { pausedQueues { queue type pausedAt } }`;
export interface PausedResult {
  pausedQueues: QueuePause[];
}

export const PAUSE_MUTATION = /* GraphQL */ `
  mutation DashboardPause($input: QueuePauseInput!) { pauseQueue(input: $input) { queue type pausedAt } }`;
export const RESUME_MUTATION = /* GraphQL */ `
  mutation DashboardResume($input: QueuePauseInput!) { resumeQueue(input: $input) { queue type pausedAt } }`;

export type BulkAction = 'cancel' | 'retry' | 'delete';
export interface BulkResult {
  changed: number;
  skipped: number;
  hasMore: boolean;
  after: string | null;
}
/** cancelTasks, retryTasks or deleteTasks, one bounded call. */
export const bulkMutation = (action: BulkAction) => /* GraphQL */ `
  mutation DashboardBulk($filter: TaskFilter!, $after: ID) {
    result: ${action}Tasks(filter: $filter, after: $after) { changed skipped hasMore after }
  }`;

export const WORKERS_QUERY = /* GraphQL */ `
  query DashboardWorkers { workers { ...WorkerFields } }
  ${WORKER_FIELDS}`;
export interface WorkersResult {
  workers: Worker[];
}

export const WORKER_UPDATED_SUBSCRIPTION = /* GraphQL */ `
  subscription DashboardWorkerUpdated { workerUpdated { ...WorkerFields } }
  ${WORKER_FIELDS}`;
export interface WorkerUpdatedResult {
  workerUpdated: Worker;
}

export const TASK_UPDATED_SUBSCRIPTION = /* GraphQL */ `
  subscription DashboardTaskUpdated($id: ID!) { taskUpdated(id: $id) { ...TaskDetailFields } }
  ${TASK_DETAIL_FIELDS}`;
export interface TaskUpdatedResult {
  taskUpdated: TaskDetailFields;
}

export const TASK_LOGS_QUERY = /* GraphQL */ `
  query DashboardTaskLogs($id: ID!, $first: Int!, $after: String) {
    task(id: $id) {
      id
      logs(first: $first, after: $after) { edges { node { ...LogFields } } pageInfo { hasNextPage endCursor } }
    }
  }
  ${LOG_FIELDS}`;
export interface TaskLogsResult {
  task: { id: string; logs: { edges: { node: TaskLog }[]; pageInfo: PageInfo } } | null;
}

export const TASK_LOG_ADDED_SUBSCRIPTION = /* GraphQL */ `
  subscription DashboardTaskLogAdded($taskId: ID!) { taskLogAdded(taskId: $taskId) { ...LogFields } }
  ${LOG_FIELDS}`;
export interface TaskLogAddedResult {
  taskLogAdded: TaskLog;
}

export const CANCEL_TASK_MUTATION = /* GraphQL */ `
  mutation DashboardCancelTask($id: ID!) { cancelTask(id: $id, reason: "cancelled from the dashboard") { ...TaskFields } }
  ${TASK_FIELDS}`;
export interface CancelTaskResult {
  cancelTask: TaskFields;
}

export const RETRY_TASK_MUTATION = /* GraphQL */ `
  mutation DashboardRetryTask($id: ID!) { retryTask(id: $id) { ...TaskFields } }
  ${TASK_FIELDS}`;
export interface RetryTaskResult {
  retryTask: TaskFields;
}

/** Whether a task passes a filter; the same test the server applies. */
export function matchesFilter(filter: TaskFilter, task: TaskFields): boolean {
  const has = (list: string[] | undefined, value: string | null) => !list || (value !== null && list.includes(value));
  return has(filter.status, task.status) && has(filter.type, task.type) && has(filter.region, task.region) && has(filter.format, task.format);
}

export const canCancel = (t: TaskFields) =>
  t.status === 'QUEUED' || t.status === 'BLOCKED' || (t.status === 'RUNNING' && !t.cancelRequested);
export const canRetry = (t: TaskFields) => t.status === 'FAILED' || t.status === 'CANCELLED';
