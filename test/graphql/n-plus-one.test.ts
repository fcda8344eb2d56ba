/**
 * No N+1: listing tasks with their worker, dependencies, dependents and logs runs a small,
 * fixed number of SQL statements, however many tasks are on the page. Statements are
 * counted with the store's `trace` option, which only SQLite has: SQLite-only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeSqliteApp, stopApps, type TestApp } from '../helpers/app.js';

afterEach(stopApps);

const LIST = `{
  tasks(first: 100) {
    edges { node {
      id
      lockedBy { id }
      dependsOn { id }
      dependents { id }
      logs(first: 5) { edges { node { message } } }
    } }
  }
}`;

/** The same, one level deeper: the nested tasks load their own relations too. */
const NESTED = `{
  tasks(first: 100) {
    totalCount
    edges { node {
      id status
      lockedBy { id status currentTasks { id } }
      dependsOn { id lockedBy { id } logs(first: 2) { edges { node { message } } } }
      dependents { id dependsOn { id } }
      logs(first: 5) { edges { node { message level task { id } } } }
    } }
  }
}`;

interface Counted extends TestApp {
  /** Runs `query` and returns how many SQL statements it ran, and the data. */
  measure(query: string): Promise<{ statements: number; sql: string[]; data: any }>;
}

async function countingApp(): Promise<Counted> {
  let counting = false;
  const sql: string[] = [];
  const t = await makeSqliteApp({
    store: {
      trace: (s: string) => {
        if (counting) sql.push(s);
      },
    },
  });
  return {
    ...t,
    async measure(query) {
      sql.length = 0;
      counting = true;
      let data;
      try {
        data = await t.ok(query);
      } finally {
        counting = false;
      }
      return { statements: sql.length, sql: [...sql], data };
    },
  };
}

/**
 * `n` tasks: the first half stand alone, each of the second half depends on one or two of
 * the first half; every task has three log lines; a fifth of the first half is claimed,
 * by three different workers.
 */
async function populate(t: TestApp, n: number): Promise<void> {
  const roots: number[] = [];
  for (let i = 0; i < n; i++) {
    const half = Math.floor(n / 2);
    const dependsOn = i < half ? [] : [roots[i % half]!, roots[(i + 1) % half]!];
    const { task } = await t.store.enqueue({ type: i < half ? 'root' : 'leaf', payload: { i }, dependsOn });
    if (i < half) roots.push(task.id);
    for (let l = 0; l < 3; l++) await t.store.appendLog({ taskId: task.id, level: 'INFO', message: `task ${i} line ${l}` });
  }
  for (let w = 0; w < 3; w++) await t.store.claim({ workerId: `w${w}`, types: ['root'], limit: Math.max(1, Math.floor(n / 30)) });
}

describe('listing tasks with their relations', () => {
  it('runs a bounded number of statements for 100 tasks, and gets the relations right', async () => {
    const t = await countingApp();
    await populate(t, 100);
    const { statements, sql, data } = await t.measure(LIST);
    const nodes = data.tasks.edges.map((e: { node: any }) => e.node);
    expect(nodes).toHaveLength(100);
    // The relations really were loaded (so a low count is not a count of nothing).
    expect(nodes.filter((n: any) => n.lockedBy).length).toBeGreaterThanOrEqual(3);
    expect(nodes.filter((n: any) => n.dependsOn.length === 2).length).toBe(50);
    expect(nodes.filter((n: any) => n.dependents.length > 0).length).toBe(50);
    expect(nodes.every((n: any) => n.logs.edges.length === 3)).toBe(true);
    // One list query, then one batch per relation (a relation to tasks may take two:
    // the edges, then the tasks).
    expect(statements, sql.join('\n---\n')).toBeLessThanOrEqual(10);
  });

  it('runs the same number of statements for 10 tasks as for 100', async () => {
    const small = await countingApp();
    await populate(small, 10);
    const large = await countingApp();
    await populate(large, 100);
    for (const query of [LIST, NESTED]) {
      const a = await small.measure(query);
      const b = await large.measure(query);
      expect(a.data.tasks.edges).toHaveLength(10);
      expect(b.data.tasks.edges).toHaveLength(100);
      expect(b.statements, `10 tasks:\n${a.sql.join('\n---\n')}\n\n100 tasks:\n${b.sql.join('\n---\n')}`).toBe(a.statements);
      expect(b.statements).toBeLessThanOrEqual(20);
    }
  });
});
