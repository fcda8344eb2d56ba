/**
 * Stable machine-readable codes; the API layer copies them into `extensions.code`. A list
 * at run time too, so that the server's error masking and the tests read the same codes.
 */
export const ERROR_CODES = [
  'NOT_FOUND',
  'VALIDATION',
  'INVALID_STATE',
  'LEASE_LOST',
  'CONFLICT',
  'BUSY',
  'SCHEMA',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'STORAGE',
  'SLOW_CONSUMER',
  'UNAVAILABLE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class TaskwireError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'TaskwireError';
    this.code = code;
    this.details = details;
  }
}

export const notFound = (what: string, id: unknown) =>
  new TaskwireError('NOT_FOUND', `${what} ${String(id)} does not exist`, { id });
export const validation = (message: string, field?: string) =>
  new TaskwireError('VALIDATION', message, field ? { field } : undefined);
export const invalidState = (message: string, details?: Record<string, unknown>) =>
  new TaskwireError('INVALID_STATE', message, details);
export const leaseLost = (taskId: number) =>
  new TaskwireError('LEASE_LOST', `the lease on task ${taskId} is no longer held by this token`, { taskId });

export function isTaskwireError(e: unknown): e is TaskwireError {
  return e instanceof TaskwireError;
}
