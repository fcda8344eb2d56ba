/**
 * Errors of the worker runner and its connection.
 *
 * A handler fails an attempt by throwing. The attempt is retried (with the server's
 * backoff) unless the error says `retryable === false`; `NonRetryableError` is the
 * ready-made one. Any error may carry `retryAfterSeconds` to choose the retry delay.
 */

/** Throw this from a handler to send the task straight to FAILED, without retries. */
export class NonRetryableError extends Error {
  readonly retryable = false as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}

/** The reason of a handler's AbortSignal when the task was cancelled through the API. */
export class TaskCancelledError extends Error {
  constructor(readonly taskId: string) {
    super(`task ${taskId} was cancelled`);
    this.name = 'TaskCancelledError';
  }
}

/**
 * The reason of a handler's AbortSignal when the worker no longer holds the task's lease
 * (it expired, the task timed out, or another worker took it over). Nothing more is sent
 * about that attempt: the server has already moved the task on.
 */
export class LeaseLostError extends Error {
  constructor(
    readonly taskId: string,
    detail = 'the lease is no longer held',
  ) {
    super(`task ${taskId}: ${detail}`);
    this.name = 'LeaseLostError';
  }
}

/** The reason of a handler's AbortSignal when `stop()` ran out of time for it. */
export class WorkerStoppedError extends Error {
  constructor(message = 'the worker stopped before the task finished') {
    super(message);
    this.name = 'WorkerStoppedError';
  }
}

export interface GraphQLErrorShape {
  message: string;
  path?: readonly (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

/** The server answered, with errors (e.g. LEASE_LOST, VALIDATION). */
export class GraphQLRequestError extends Error {
  /** `extensions.code` of the first error (e.g. LEASE_LOST), or undefined. */
  readonly code: string | undefined;
  constructor(
    readonly errors: readonly GraphQLErrorShape[],
    readonly operationName?: string,
  ) {
    const first = errors[0];
    super(
      `${operationName ? `${operationName}: ` : ''}${errors.map((e) => e.message).join('; ') || 'GraphQL error'}` +
        (first?.extensions?.code ? ` (${first.extensions.code})` : ''),
    );
    this.name = 'GraphQLRequestError';
    this.code = first?.extensions?.code;
  }
}

/** The connection could not deliver the operation (socket closed for good, or disposed). */
export class ConnectionError extends Error {
  constructor(
    message: string,
    readonly closeCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

/** Server answers that say "try again": the request changed nothing. */
const TRANSIENT_CODES = new Set(['BUSY', 'UNAVAILABLE', 'INTERNAL_SERVER_ERROR']);

/** True for errors worth retrying: network trouble, or a server that asked to be retried. */
export function isTransientError(error: unknown): boolean {
  if (error instanceof ConnectionError) return true;
  if (error instanceof GraphQLRequestError) return error.code !== undefined && TRANSIENT_CODES.has(error.code);
  return false;
}
