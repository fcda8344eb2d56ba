/**
 * Claim: which QUEUED tasks a worker takes, under the queue's concurrency limits, in the
 * order of its strategy. The driver walks the queue (claimWalk: one index scan in order);
 * the choice among walks is made here, once for every driver.
 */
import { randomUUID } from 'node:crypto';
import type { ClaimedTask, ClaimStrategy } from '../../types.js';
import type { WorkerMatch } from '../../validate.js';
import type { ClaimOf, ClaimWalk } from '../../driver.js';
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

/** Extra rounds a claim may walk after losing candidates to other writers. */
const MAX_RETRY_ROUNDS = 3;

/** What every walk of one claim round shares. */
interface WalkBase {
  queue: string;
  types: readonly string[] | null;
  match: WorkerMatch;
  excluded: readonly string[];
  now: number;
}

/**
 * The queue's concurrency budget for one claim (rules/claiming.ts). A pause is a limit of
 * 0: on the whole queue ('') the claim takes nothing; on a type, the walks leave it out.
 * Relies on: lockQueue serializing the claims of a queue that has limits, so that no
 * other claim runs between this read of the RUNNING counts and this claim's updates
 * (two claims would both see the free slot). SQLite's single writer does the same.
 */
function* claimBudget(queue: string, want: number): Unit<ClaimBudget> {
  const controls = yield* call('queueControls', queue);
  // After the limits, so that a paused type's 0 wins over its limit.
  const pauses = controls.paused.map((type) => ({ type, maxRunning: 0 }));
  const limits = [...controls.limits, ...pauses];
  if (controls.limits.length === 0 || controls.paused.includes('')) return new ClaimBudget(limits, () => 0, want);
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
  // Rounds: one, plus one per limited type that runs out, plus one per round that lost
  // candidates to another writer (bounded: a walk that finds nothing ends the claim).
  let rounds = budget.maxRounds;
  for (let round = 0; budget.wanted > 0 && round < rounds; round++) {
    const base: WalkBase = { queue: req.queue, types: req.types, match: req.match, excluded: budget.excluded, now };
    const candidates = yield* pick(req.strategy, base, budget.wanted, env.random);
    const chosen: (ClaimOf & { type: string })[] = [];
    for (const c of candidates) {
      if (chosen.length === budget.wanted) break;
      if (budget.offer(c.type)) chosen.push({ taskId: c.id, leaseToken: randomUUID(), type: c.type });
    }
    // Guard: still QUEUED (TRANSITIONS.claim), so no task is taken twice: by a later
    // walk of this claim, or by a claim of another instance that took it first.
    const tasks = chosen.length === 0 ? [] : yield* call('markRunningIfQueued', chosen, { leaseUntil, workerId: req.workerId, now });
    const tokens = new Map(chosen.map((c) => [c.taskId, c.leaseToken]));
    for (const task of tasks) {
      yield* call('appendEvent', { kind: 'CLAIMED', at: now, taskId: task.id, status: task.status, queue: task.queue, type: task.type, workerId: req.workerId });
      claimed.push({ task, leaseToken: tokens.get(task.id)!, leaseUntil });
      tokens.delete(task.id);
      budget.took();
    }
    // Candidates another writer took first give their reserved slots back; walk again.
    for (const c of chosen) if (tokens.has(c.taskId)) budget.release(c.type);
    const lost = tokens.size > 0 && candidates.length > 0;
    if (lost && rounds < budget.maxRounds + MAX_RETRY_ROUNDS) rounds++;
    if (!budget.endRound() && !lost) break;
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
 * list), or one walk over every type. `peek`: read without locking.
 */
function* walk(order: Order, base: WalkBase, limit: number, priority: ClaimWalk['priority'], peek = false): Unit<Candidate[]> {
  const op = peek ? 'peekClaimable' : 'claimWalk';
  if (base.types === null) return yield* call(op, walkOf(order, base, limit, priority, null));
  const lists: Candidate[][] = [];
  for (const type of base.types) {
    if (base.excluded.includes(type)) continue;
    lists.push(yield* call(op, walkOf(order, base, limit, priority, type)));
  }
  return mergeSorted(lists, comparator(order), limit);
}

/**
 * The priority levels that hold claimable work for this worker, most urgent first: each
 * step walks from just past the last level found and stops at the first due, matching
 * task (weights: rules/claiming.ts). These walks only look: locking a row per level would
 * hide it from other claims without this one taking it.
 */
function* levels(base: WalkBase): Unit<Level[]> {
  const found: number[] = [];
  let above = Number.MIN_SAFE_INTEGER;
  while (found.length < MAX_LEVELS) {
    const next = (yield* walk('PRIORITY', base, 1, { value: above, mode: 'gt' }, true))[0];
    if (!next) break;
    found.push(next.priority);
    above = next.priority;
  }
  const more = found.length === MAX_LEVELS && (yield* walk('PRIORITY', base, 1, { value: above, mode: 'gt' }, true)).length > 0;
  return weightedLevels(found, more);
}

/**
 * WEIGHTED_RANDOM: each slot draws a priority level by its weight; then each drawn level
 * gives its oldest tasks, as many as it was drawn, from one locking walk, so that every
 * row a walk locks is claimed. A level that runs short is dropped and its missing slots
 * are drawn again among the others: the same odds as drawing slot by slot and redrawing
 * whenever a level is empty.
 */
function* pickWeighted(base: WalkBase, limit: number, random: () => number): Unit<Candidate[]> {
  const lv = yield* levels(base);
  const taken: Candidate[] = [];
  const takenIds = new Set<number>();
  const fromLevel = new Map<Level, number>();
  while (taken.length < limit && lv.length > 0) {
    const draws = new Map<Level, number>();
    for (let k = taken.length; k < limit; k++) {
      const level = lv[drawLevel(lv, random())]!;
      draws.set(level, (draws.get(level) ?? 0) + 1);
    }
    for (const [level, n] of draws) {
      // A level walked before returns its first rows again (this claim holds them): ask for those too.
      const before = fromLevel.get(level) ?? 0;
      const rows = (yield* walk('PRIORITY', base, before + n, { value: level.priority, mode: level.mode })).filter((c) => !takenIds.has(c.id));
      for (const c of rows.slice(0, n)) {
        taken.push(c);
        takenIds.add(c.id);
      }
      fromLevel.set(level, before + Math.min(n, rows.length));
      if (rows.length < n) lv.splice(lv.indexOf(level), 1);
    }
  }
  return taken;
}
