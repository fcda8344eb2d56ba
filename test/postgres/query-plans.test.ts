/**
 * Every claim walk reads its partial index in the strategy's order and stops after LIMIT
 * rows: no sort, no scan of the table or of its primary key past finished tasks (EXPLAIN
 * after ANALYZE on 30,000 tasks, nine in ten finished, as retention leaves a busy table).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { walkSql } from '../../src/store/postgres/queries/claim.js';
import { PostgresTaskStore } from '../../src/store/postgres/store.js';
import { freshSchemaUrl } from '../helpers/postgres.js';

type Plan = { 'Node Type': string; 'Index Name'?: string; Plans?: Plan[] };

function nodes(plan: Plan): Plan[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describe('claim walks on PostgreSQL', () => {
  it('walk their claim index in order, with no sort, for every strategy, with and without a type', async () => {
    const store = await PostgresTaskStore.open({ url: freshSchemaUrl(), feedPollMs: 0, listen: false });
    onTestFinished(() => store.close());
    const db = store.pg.db;
    await db.query(
      `INSERT INTO tasks (queue, type, priority, payload, status, max_attempts, run_after, created_at, updated_at)
       SELECT CASE WHEN i % 10 = 0 THEN 'other' ELSE 'default' END, 't' || (i % 5), i % 7, '{}',
              CASE WHEN i % 10 < 9 THEN 'SUCCEEDED' ELSE 'QUEUED' END, 5, i, i, i
       FROM generate_series(1, 30000) i`,
    );
    await db.query('ANALYZE tasks');
    const cases = [
      ['PRIORITY', false, 'ix_tasks_claim_priority'],
      ['PRIORITY', true, 'ix_tasks_claim_type_priority'],
      ['FIFO', false, 'ix_tasks_claim_fifo'],
      ['FIFO', true, 'ix_tasks_claim_type_fifo'],
      ['LIFO', false, 'ix_tasks_claim_fifo'],
      ['LIFO', true, 'ix_tasks_claim_type_fifo'],
    ] as const;
    for (const [order, byType, index] of cases) {
      for (const mode of ['any', 'eq', 'gt'] as const) {
        if (mode !== 'any' && order !== 'PRIORITY') continue;
        for (const lock of [true, false]) {
          const sql = walkSql(order, byType, mode, true, true, lock);
          const values: unknown[] = ['default', Date.now(), null, 10];
          if (byType) values.push('t1');
          if (mode !== 'any') values.push(3);
          values.push(['png'], ['t4']);
          const client = await db.acquire();
          try {
            // A generic plan: what a named statement runs after its first executions.
            await client.query('SET plan_cache_mode = force_generic_plan');
            await client.query({ name: `explain_${order}_${byType}_${mode}_${lock}`, text: `EXPLAIN (FORMAT JSON) ${sql}`, values });
            const { rows } = await client.query({ name: `explain_${order}_${byType}_${mode}_${lock}`, text: `EXPLAIN (FORMAT JSON) ${sql}`, values });
            const all = nodes(rows[0]['QUERY PLAN'][0].Plan as Plan);
            const label = `${order} byType=${byType} priority=${mode} lock=${lock}`;
            expect(all.map((n) => n['Node Type']), label).not.toContain('Sort');
            expect(all.map((n) => n['Node Type']), label).not.toContain('Seq Scan');
            expect(all.find((n) => n['Index Name'])?.['Index Name'], label).toBe(index);
          } finally {
            await client.query('RESET plan_cache_mode');
            client.release();
          }
        }
      }
    }
  });
});
