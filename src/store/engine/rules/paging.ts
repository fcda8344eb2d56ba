/**
 * Keyset paging, for every driver: a page's cursor is its last row's sort key, and the
 * next page starts strictly after it, so pages stay stable while rows are added. Cursors
 * are opaque to clients (base64url of the key's numbers).
 */
import { validation } from '../../errors.js';
import type { ListTasksInput, Page, Task } from '../../types.js';
import type { TaskQuery } from '../../driver.js';

export function encodeCursor(values: readonly number[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string): number[] {
  try {
    const v = JSON.parse(Buffer.from(String(cursor), 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length > 0 && v.length <= 2 && v.every((x) => Number.isSafeInteger(x))) return v;
  } catch {
    // fall through
  }
  throw validation('after is not a cursor from this list', 'after');
}

/**
 * The query for one page of tasks. CREATED_AT orders by id, which follows creation
 * order and is unique; PRIORITY and UPDATED_AT order by (key, id).
 */
export function taskQuery(input: ListTasksInput, filter: TaskQuery['filter'], first: number): TaskQuery {
  const field = input.orderBy?.field ?? 'CREATED_AT';
  const desc = (input.orderBy?.direction ?? 'DESC') === 'DESC';
  const key = field === 'PRIORITY' ? 'priority' : field === 'UPDATED_AT' ? 'updated_at' : null;
  let after: number[] | null = null;
  if (input.after) {
    const cursor = decodeCursor(input.after);
    if (key && cursor.length !== 2) throw validation('after is not a cursor from this list', 'after');
    // An id-only cursor is its last number (a two-number cursor from another order still pages by id).
    after = key ? cursor : [cursor[cursor.length - 1]!];
  }
  return { filter, key, desc, after, limit: first + 1 };
}

/** The page from rows read with one row too many. */
export function taskPage(rows: readonly Task[], query: TaskQuery): Page<Task> {
  const first = query.limit - 1;
  const key = query.key;
  return {
    items: rows.slice(0, first).map((t) => ({
      cursor: encodeCursor(key ? [key === 'priority' ? t.priority : t.updatedAt, t.id] : [t.id]),
      node: t,
    })),
    hasNextPage: rows.length > first,
  };
}

/** Any rows with an id, paged by id (logs). */
export function idPage<T extends { id: number }>(rows: readonly T[], first: number): Page<T> {
  return {
    items: rows.slice(0, first).map((r) => ({ cursor: encodeCursor([r.id]), node: r })),
    hasNextPage: rows.length > first,
  };
}
