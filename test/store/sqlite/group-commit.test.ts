/**
 * SQLite-only. Group commit: the hot writes (enqueue, claim, heartbeat, progress, complete,
 * fail, cancel, retry, logs) issued in the same turn of the event loop share one
 * transaction, each in its own savepoint: one BEGIN IMMEDIATE ... COMMIT for the group.
 * The promises every driver keeps for writes issued together (each succeeds or fails
 * alone, events only for the ones that committed, nothing accepted lost at close) are in
 * test/engine/conformance/concurrent-writes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { makeSqliteStore } from '../../helpers/sqlite.js';

function statements() {
  const seen: string[] = [];
  return { seen, trace: (sql: string) => seen.push(sql.trim().split(/\s+/).slice(0, 2).join(' ')) };
}

describe('group commit', () => {
  it('writes issued together share one BEGIN IMMEDIATE ... COMMIT, each in a savepoint', async () => {
    const t = statements();
    const { store } = makeSqliteStore({ trace: t.trace });
    t.seen.length = 0;
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => store.enqueue({ type: `t${i}`, payload: { i } })));
    expect(results.map((r) => r.task.type)).toEqual(['t0', 't1', 't2', 't3', 't4']);
    expect(t.seen.filter((s) => s === 'BEGIN IMMEDIATE')).toHaveLength(1);
    expect(t.seen.filter((s) => s === 'COMMIT')).toHaveLength(1);
    expect(t.seen.filter((s) => s.startsWith('SAVEPOINT'))).toHaveLength(5);
    // A lone write pays for no savepoint.
    t.seen.length = 0;
    await store.enqueue({ type: 'alone', payload: {} });
    expect(t.seen.filter((s) => s.startsWith('SAVEPOINT'))).toHaveLength(0);
    expect(t.seen.filter((s) => s === 'COMMIT')).toHaveLength(1);
  });

  it('writes issued one after another (awaiting each) each commit before the next starts', async () => {
    const t = statements();
    const { store } = makeSqliteStore({ trace: t.trace });
    t.seen.length = 0;
    for (let i = 0; i < 3; i++) await store.enqueue({ type: 'seq', payload: { i } });
    expect(t.seen.filter((s) => s === 'COMMIT')).toHaveLength(3);
  });
});
