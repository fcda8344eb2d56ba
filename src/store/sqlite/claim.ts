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
import { MAX_LEVELS, comparator, drawLevel, mergeSorted, weightedLevels, type Candidate, type Level, type Order } from '../engine/rules/claiming.js';

export type { Candidate };

export interface CandidateQuery {
  queue: string;
  /** null: any type. */
  types: readonly string[] | null;
  match: WorkerMatch;
  /** Types that may not be claimed now (their concurrency limit is reached). */
  excludedTypes: readonly string[];
  now: number;
}

const ORDER_SQL: Record<Order, string> = {
  PRIORITY: 'priority, id',
  FIFO: 'id',
  LIFO: 'id DESC',
};

function indexFor(order: Order, byType: boolean): string {
  if (order === 'PRIORITY') return byType ? 'ix_tasks_claim_type_priority' : 'ix_tasks_claim_priority';
  return byType ? 'ix_tasks_claim_type_fifo' : 'ix_tasks_claim_fifo';
}

/** How a walk restricts priority: not at all, one level, or levels after a given one. */
export type PriorityMode = 'any' | 'eq' | 'gt';

/** Which optional filters a walk needs; each combination is its own cached statement. */
export interface WalkShape {
  formats: boolean;
  excluded: boolean;
}

const ALL_FILTERS: WalkShape = { formats: true, excluded: true };

/** The SQL of one index walk; exported for the EXPLAIN QUERY PLAN test. */
export function candidateSql(
  order: Order,
  byType: boolean,
  priority: PriorityMode | boolean,
  shape: WalkShape = ALL_FILTERS,
): string {
  const mode: PriorityMode = priority === true ? 'eq' : priority === false ? 'any' : priority;
  // Filters a worker does not need are left out of the SQL rather than passed as NULL:
  // SQLite would still set up their json_each subqueries on every claim.
  return `SELECT id, type, priority FROM tasks INDEXED BY ${indexFor(order, byType)}
    WHERE status = 'QUEUED' AND queue = @queue
      ${byType ? 'AND type = @type' : ''}
      ${mode === 'eq' ? 'AND priority = @priority' : mode === 'gt' ? 'AND priority > @priority' : ''}
      AND run_after <= @now
      AND (region IS NULL OR region = @region)
      ${shape.formats ? 'AND (format IS NULL OR format IN (SELECT value FROM json_each(@formats)))' : ''}
      ${shape.excluded ? 'AND type NOT IN (SELECT value FROM json_each(@excluded))' : ''}
    ORDER BY ${ORDER_SQL[order]}
    LIMIT @limit`;
}

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

  /** Named parameters for a walk; only those its SQL uses (better-sqlite3 refuses extras). */
  private params(q: CandidateQuery, limit: number, type: string | null, priority: number | null) {
    const p: Record<string, unknown> = { queue: q.queue, now: q.now, region: q.match.region, limit };
    if (type !== null) p.type = type;
    if (priority !== null) p.priority = priority;
    if (q.match.formats) p.formats = JSON.stringify(q.match.formats);
    if (q.excludedTypes.length > 0) p.excluded = JSON.stringify(q.excludedTypes);
    return p;
  }

  /** Up to `limit` candidates in strategy order. */
  pick(strategy: ClaimStrategy, q: CandidateQuery, limit: number): Candidate[] {
    if (strategy === 'WEIGHTED_RANDOM') return this.pickWeighted(q, limit);
    return this.walk(strategy, q, limit, null);
  }

  private walk(order: Order, q: CandidateQuery, limit: number, level: { priority: number; mode: PriorityMode } | null): Candidate[] {
    const byType = q.types !== null;
    const mode = level?.mode ?? 'any';
    const priority = level?.priority ?? null;
    const shape = { formats: q.match.formats !== null, excluded: q.excludedTypes.length > 0 };
    const stmt = this.stmt(candidateSql(order, byType, mode, shape));
    if (!byType) return stmt.all(this.params(q, limit, null, priority)) as Candidate[];
    const lists: Candidate[][] = [];
    for (const type of q.types!) {
      if (q.excludedTypes.includes(type)) continue;
      lists.push(stmt.all(this.params(q, limit, type, priority)) as Candidate[]);
    }
    return mergeSorted(lists, comparator(order), limit);
  }

  /**
   * The priority levels that hold claimable work for this worker, most urgent first:
   * each step is one walk of the priority index from just past the last level found,
   * stopping at the first due, matching task (weights: rules/claiming.ts).
   */
  private levels(q: CandidateQuery): Level[] {
    const found: number[] = [];
    let above = Number.MIN_SAFE_INTEGER;
    while (found.length < MAX_LEVELS) {
      const next = this.walk('PRIORITY', q, 1, { priority: above, mode: 'gt' })[0];
      if (!next) break;
      found.push(next.priority);
      above = next.priority;
    }
    const more = found.length === MAX_LEVELS && this.walk('PRIORITY', q, 1, { priority: above, mode: 'gt' }).length > 0;
    return weightedLevels(found, more);
  }

  /**
   * WEIGHTED_RANDOM: for each slot, draw a priority level by its weight, then take that
   * level's oldest task; a level with nothing left is dropped.
   */
  private pickWeighted(q: CandidateQuery, limit: number): Candidate[] {
    const levels = this.levels(q);
    const taken: Candidate[] = [];
    const takenIds = new Set<number>();
    const perLevel = new Map<Level, Candidate[]>();
    while (taken.length < limit && levels.length > 0) {
      const i = drawLevel(levels, this.random());
      const level = levels[i]!;
      let queue = perLevel.get(level);
      if (!queue) {
        queue = this.walk('PRIORITY', q, limit, level).filter((c) => !takenIds.has(c.id));
        perLevel.set(level, queue);
      }
      const next = queue.shift();
      if (!next) {
        levels.splice(i, 1);
        continue;
      }
      taken.push(next);
      takenIds.add(next.id);
    }
    return taken;
  }
}
