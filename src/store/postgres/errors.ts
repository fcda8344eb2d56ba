/** Turns a PostgreSQL or connection failure into a coded error; the raw one stays in `cause` for logs. */
import { TaskwireError } from '../errors.js';

/** Network-level failures of node-postgres and Node's sockets. */
const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);

/** True when the connection (not the statement) failed: the client must not go back to the pool. */
export function isConnectionFailure(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: string }).code;
  if (code && (CONNECTION_ERRNOS.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03')) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(e.message);
}

export function mapPgError(e: unknown): unknown {
  if (e instanceof TaskwireError || !(e instanceof Error)) return e;
  const code = (e as { code?: string }).code ?? '';
  let mapped: TaskwireError;
  if (isConnectionFailure(e)) {
    mapped = new TaskwireError('UNAVAILABLE', 'the database is unreachable; the change was not saved, try again shortly');
  } else if (code === '23505') {
    mapped = new TaskwireError('CONFLICT', 'the change conflicts with an existing record');
  } else if (code.startsWith('23') || code === '22003' || code === '22P02') {
    mapped = new TaskwireError('VALIDATION', 'a value is outside what the store accepts');
  } else if (code === '40001' || code === '40P01' || code === '55P03' || code === '57014') {
    // Serialization failure, deadlock, lock or statement timeout: nothing was changed.
    mapped = new TaskwireError('BUSY', 'the database is busy with conflicting work; try again shortly');
  } else if (code.startsWith('53')) {
    mapped = new TaskwireError('STORAGE', 'the database is out of resources (disk, memory or connections): the change was not saved');
  } else if (code === '25006') {
    mapped = new TaskwireError('STORAGE', 'the database is read-only: the change was not saved; reads still work');
  } else if (code) {
    mapped = new TaskwireError('STORAGE', 'the storage layer failed; the change was not saved');
  } else {
    return e;
  }
  (mapped as Error).cause = e;
  return mapped;
}

/** What to tell someone whose server could not open the database at start (exit code 2, no stack). */
export function describeOpenFailure(e: unknown, where: string): string {
  const err = e as { code?: string; message?: string };
  switch (err.code) {
    case 'ECONNREFUSED':
      return `cannot connect to PostgreSQL at ${where}: connection refused (is the server running and listening there?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot connect to PostgreSQL at ${where}: unknown host`;
    case '28P01':
    case '28000':
      return `PostgreSQL refused the login at ${where}: ${err.message}`;
    case '3D000':
      return `PostgreSQL at ${where}: ${err.message} (create it first, e.g. createdb)`;
    default:
      return `cannot open PostgreSQL at ${where}: ${err.message ?? String(e)}`;
  }
}
