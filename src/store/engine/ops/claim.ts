/**
 * Claim: which QUEUED tasks a worker takes, under the queue's concurrency limits, in the
 * order of its strategy. The driver walks the queue (claimWalk: one index scan in order);
 * the choice among walks is made here, once for every driver.
 */
import { randomUUID } from 'node:crypto';
import type { ClaimedTask, ClaimStrategy } from '../../types.js';
import type { WorkerMatch } from '../../validate.js';
import type { ClaimWalk } from '../../driver.js';
import type { EngineEnv } from '../env.js';
import {
  ClaimBudget,
  MAX_LEVELS,
  comparator,
  drawLevel,
  mergeSorted,
  weightedLevels,
  type Candidate,
  type Level,
  type Order,
} from '../rules/claiming.js';
import { call, type Unit } from '../unit.js';
import { refreshOrTouchWorker } from './workers.js';

export interface ClaimRequest {
  workerId: string;
  queue: string;
  /** null: any type. */
  types: readonly string[] | null;
  match: WorkerMatch;
  /** The worker's capabilities as JSON text, or null to leave them as they are. */
  capabilities: string | null;
  limit: number;
  leaseSeconds: number;
  strategy: ClaimStrategy;
}

/** What every walk of one claim round shares. */
interface WalkBase {
  queue: string;
  types: readonly string[] | null;
  match: WorkerMatch;
  excluded: readonly string[];
  now: number;
}

/**
 * The queue's concurrency budget for one claim (rules/claiming.ts).
 * Relies on: lockQueue serializing the claims of a queue that has limits, so that no
 * other claim runs between this read of the RUNNING counts and this claim's updates
 * (two claims would both see the free slot). SQLite's single writer does the same.
 */
function* claimBudget(queue: string, want: number): Unit<ClaimBudget> {
  const limits = yield* call('concurrencyLimits', queue);
  if (limits.length === 0) return new ClaimBudget(limits, () => 0, want);
  yield* call('lockQueue', queue);
  const running = new Map<string | null, number>();
  for (const l of limits) {
    const type = l.type === '' ? null : l.type;
    running.set(type, yield* call('runningCount', queue, type));
  }
  return new ClaimBudget(limits, (type) => running.get(type) ?? 0, want);
}

export function* claim(req: ClaimRequest, env: EngineEnv): Unit<ClaimedTask[]> {
  const now = env.now();
  yield* refreshOrTouchWorker(req.workerId, req.capabilities, now);
  const budget = yield* claimBudget(req.queue, req.limit);
  const claimed: ClaimedTask[] = [];
  const leaseUntil = now + req.leaseSeconds * 1000;
  for (let round = 0; budget.wanted > 0 && round < budget.maxRounds; round++) {
    const base: WalkBase = { queue: req.queue, types: req.types, match: req.match, excluded: budget.excluded, now };
    const candidates = yield* pick(req.strategy, base, budget.wanted, env.random);
    for (const c of candidates) {
      if (budget.wanted === 0) break;
      if (!budget.offer(c.type)) continue;
      const leaseToken = randomUUID();
      // Guard: still QUEUED (TRANSITIONS.claim), so no task is taken twice: by a later
      // walk of this claim, or by a claim of another instance that locked it first.
      const task = yield* call('markRunningIfQueued', c.id, { leaseToken, leaseUntil, workerId: req.workerId, now });
      if (!task) continue;
      yield* call('appendEvent', { kind: 'CLAIMED', at: now, taskId: task.id, status: task.status, queue: task.queue, type: task.type, workerId: req.workerId });
      claimed.push({ task, leaseToken, leaseUntil });
      budget.took();
    }
    if (!budget.endRound()) break;
  }
  return claimed;
}

/** Up to `limit` candidates in strategy order. */
function pick(strategy: ClaimStrategy, base: WalkBase, limit: number, random: () => number): Unit<Candidate[]> {
  if (strategy === 'WEIGHTED_RANDOM') return pickWeighted(base, limit, random);
  return walk(strategy, base, limit, null);
}

function walkOf(order: Order, base: WalkBase, limit: number, priority: ClaimWalk['priority'], type: string | null): ClaimWalk {
  return { order, queue: base.queue, type, priority, region: base.match.region, formats: base.match.formats, excluded: base.excluded, now: base.now, limit };
}

/**
 * One walk per listed type, merged here (cheaper than letting the database sort an IN
 * list), or one walk over every type.
 */
function* walk(order: Order, base: WalkBase, limit: number, priority: ClaimWalk['priority']): Unit<Candidate[]> {
  if (base.types === null) return yield* call('claimWalk', walkOf(order, base, limit, priority, null));
  const lists: Candidate[][] = [];
  for (const type of base.types) {
    if (base.excluded.includes(type)) continue;
    lists.push(yield* call('claimWalk', walkOf(order, base, limit, priority, type)));
  }
  return mergeSorted(lists, comparator(order), limit);
}

/**
 * The priority levels that hold claimable work for this worker, most urgent first: each
 * step walks from just past the last level found and stops at the first due, matching
 * task (weights: rules/claiming.ts).
 */
function* levels(base: WalkBase): Unit<Level[]> {
  const found: number[] = [];
  let above = Number.MIN_SAFE_INTEGER;
  while (found.length < MAX_LEVELS) {
    const next = (yield* walk('PRIORITY', base, 1, { value: above, mode: 'gt' }))[0];
    if (!next) break;
    found.push(next.priority);
    above = next.priority;
  }
  const more = found.length === MAX_LEVELS && (yield* walk('PRIORITY', base, 1, { value: above, mode: 'gt' })).length > 0;
  return weightedLevels(found, more);
}

/**
 * WEIGHTED_RANDOM: for each slot, draw a priority level by its weight, then take that
 * level's oldest task; a level with nothing left is dropped.
 */
function* pickWeighted(base: WalkBase, limit: number, random: () => number): Unit<Candidate[]> {
  const lv = yield* levels(base);
  const taken: Candidate[] = [];
  const takenIds = new Set<number>();
  const perLevel = new Map<Level, Candidate[]>();
  while (taken.length < limit && lv.length > 0) {
    const i = drawLevel(lv, random());
    const level = lv[i]!;
    let queue = perLevel.get(level);
    if (!queue) {
      queue = (yield* walk('PRIORITY', base, limit, { value: level.priority, mode: level.mode })).filter((c) => !takenIds.has(c.id));
      perLevel.set(level, queue);
    }
    const next = queue.shift();
    if (!next) {
      lv.splice(i, 1);
      continue;
    }
    taken.push(next);
    takenIds.add(next.id);
  }
  return taken;
}
