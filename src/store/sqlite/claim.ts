/**
 * Choosing which QUEUED tasks a claim takes, for each strategy, without sorting.
 *
 * Every query here names its index (INDEXED BY) so that a schema change that would make
 * SQLite sort the queue fails loudly instead of slowing down quietly. A worker that
 * lists types gets one index walk per type; the walks are merged here, which is cheaper
 * than letting SQLite sort an IN list.
 */
import type { SqliteDatabase } from './database.js';
import type { ClaimStrategy } from '../types.js';
import type { WorkerMatch } from '../validate.js';

export interface Candidate {
  id: number;
  type: string;
  priority: number;
}

export interface CandidateQuery {
  queue: string;
  /** null: any type. */
  types: readonly string[] | null;
  match: WorkerMatch;
  /** Types that may not be claimed now (their concurrency limit is reached). */
  excludedTypes: readonly string[];
  now: number;
}

type Order = 'PRIORITY' | 'FIFO' | 'LIFO';

const ORDER_SQL: Record<Order, string> = {
  PRIORITY: 'priority, id',
  FIFO: 'id',
  LIFO: 'id DESC',
};

function indexFor(order: Order, byType: boolean): string {
  if (order === 'PRIORITY') return byType ? 'ix_tasks_claim_type_priority' : 'ix_tasks_claim_priority';
  return byType ? 'ix_tasks_claim_type_fifo' : 'ix_tasks_claim_fifo';
}

/** The SQL of one index walk; exported for the EXPLAIN QUERY PLAN test. */
export function candidateSql(order: Order, byType: boolean, atPriority: boolean): string {
  return `SELECT id, type, priority FROM tasks INDEXED BY ${indexFor(order, byType)}
    WHERE status = 'QUEUED' AND queue = @queue
      ${byType ? 'AND type = @type' : ''}
      ${atPriority ? 'AND priority = @priority' : ''}
      AND run_after <= @now
      AND (region IS NULL OR region = @region)
      AND (@formats IS NULL OR format IS NULL OR format IN (SELECT value FROM json_each(@formats)))
      AND (@excluded IS NULL OR type NOT IN (SELECT value FROM json_each(@excluded)))
    ORDER BY ${ORDER_SQL[order]}
    LIMIT @limit`;
}

const LEVEL_SQL = (byType: boolean) => `SELECT priority FROM tasks INDEXED BY ${indexFor('PRIORITY', byType)}
    WHERE status = 'QUEUED' AND queue = @queue ${byType ? 'AND type = @type' : ''} AND priority > @above
    ORDER BY priority, id LIMIT 1`;

/** Highest number of distinct priority levels WEIGHTED_RANDOM considers at once. */
const MAX_LEVELS = 32;

export class CandidatePicker {
  private readonly statements = new Map<string, ReturnType<SqliteDatabase['prepare']>>();

  constructor(
    private readonly db: SqliteDatabase,
    private readonly random: () => number,
  ) {}

  private stmt(sql: string) {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private params(q: CandidateQuery, limit: number, type: string | null, priority: number | null) {
    return {
      queue: q.queue,
      type,
      priority,
      now: q.now,
      region: q.match.region,
      formats: q.match.formats ? JSON.stringify(q.match.formats) : null,
      excluded: q.excludedTypes.length > 0 ? JSON.stringify(q.excludedTypes) : null,
      limit,
    };
  }

  /** Up to `limit` candidates in strategy order. */
  pick(strategy: ClaimStrategy, q: CandidateQuery, limit: number): Candidate[] {
    if (strategy === 'WEIGHTED_RANDOM') return this.pickWeighted(q, limit);
    return this.walk(strategy, q, limit, null);
  }

  private walk(order: Order, q: CandidateQuery, limit: number, priority: number | null): Candidate[] {
    const byType = q.types !== null;
    const stmt = this.stmt(candidateSql(order, byType, priority !== null));
    if (!byType) return stmt.all(this.params(q, limit, null, priority)) as Candidate[];
    const lists: Candidate[][] = [];
    for (const type of q.types!) {
      if (q.excludedTypes.includes(type)) continue;
      lists.push(stmt.all(this.params(q, limit, type, priority)) as Candidate[]);
    }
    return mergeSorted(lists, comparator(order), limit);
  }

  /** Distinct priorities among the queued tasks, lowest (most urgent) first. */
  private levels(q: CandidateQuery): number[] {
    const sources = q.types ?? [null];
    const found = new Set<number>();
    for (const type of sources) {
      if (type !== null && q.excludedTypes.includes(type)) continue;
      const stmt = this.stmt(LEVEL_SQL(type !== null));
      let above = Number.MIN_SAFE_INTEGER;
      // Each step is one index seek: the next priority above the last one found.
      for (let i = 0; i < MAX_LEVELS; i++) {
        const row = stmt.get({ queue: q.queue, type, above }) as { priority: number } | undefined;
        if (!row) break;
        found.add(row.priority);
        above = row.priority;
      }
    }
    return [...found].sort((a, b) => a - b).slice(0, MAX_LEVELS);
  }

  /**
   * WEIGHTED_RANDOM: for each slot, draw a priority level with probability proportional
   * to 1 / (rank + 1), where rank 0 is the most urgent level present, then take that
   * level's oldest task. Urgent work is likely; every level that has work keeps a
   * probability of at least 1 / (levels * H(levels)), so nothing starves.
   */
  private pickWeighted(q: CandidateQuery, limit: number): Candidate[] {
    const levels = this.levels(q);
    const weights = levels.map((_, rank) => 1 / (rank + 1));
    const taken: Candidate[] = [];
    const takenIds = new Set<number>();
    const perLevel = new Map<number, Candidate[]>();
    while (taken.length < limit && levels.length > 0) {
      const total = weights.reduce((a, b) => a + b, 0);
      let r = this.random() * total;
      let i = 0;
      while (i < levels.length - 1 && r >= weights[i]!) {
        r -= weights[i]!;
        i++;
      }
      const level = levels[i]!;
      let queue = perLevel.get(level);
      if (!queue) {
        queue = this.walk('PRIORITY', q, limit, level).filter((c) => !takenIds.has(c.id));
        perLevel.set(level, queue);
      }
      const next = queue.shift();
      if (!next) {
        levels.splice(i, 1);
        weights.splice(i, 1);
        continue;
      }
      taken.push(next);
      takenIds.add(next.id);
    }
    return taken;
  }
}

function comparator(order: Order): (a: Candidate, b: Candidate) => number {
  if (order === 'PRIORITY') return (a, b) => a.priority - b.priority || a.id - b.id;
  if (order === 'FIFO') return (a, b) => a.id - b.id;
  return (a, b) => b.id - a.id;
}

/** Merges lists that are each sorted by `cmp`, keeping the first `limit`. */
function mergeSorted(lists: Candidate[][], cmp: (a: Candidate, b: Candidate) => number, limit: number): Candidate[] {
  if (lists.length === 1) return lists[0]!;
  const heads = lists.map(() => 0);
  const out: Candidate[] = [];
  while (out.length < limit) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const c = lists[i]![heads[i]!];
      if (c && (best < 0 || cmp(c, lists[best]![heads[best]!]!) < 0)) best = i;
    }
    if (best < 0) break;
    out.push(lists[best]![heads[best]!++]!);
  }
  return out;
}
