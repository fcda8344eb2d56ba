/**
 * Claim rules that hold for every driver: concurrency budgets and the rounds that fill a
 * claim around exhausted types, the priority levels of WEIGHTED_RANDOM and how a level is
 * drawn, and the merge of per-type walks. The driver supplies the walks (index scans in
 * strategy order); these decide what to take from them.
 */

export interface Candidate {
  id: number;
  type: string;
  priority: number;
}

/** A concurrency limit: `type` '' is the whole queue. */
export interface LimitRule {
  type: string;
  maxRunning: number;
}

/**
 * What one claim may still take under the queue's concurrency limits: a total, and a
 * budget per limited type. Each candidate is offered in order; a type whose budget ran out
 * is excluded, and a round that skipped one is followed by another that leaves it out,
 * so the other types still fill the claim.
 */
export class ClaimBudget {
  readonly perType = new Map<string, number>();
  /** Types that may not be claimed now: pass them to the walk as excluded. */
  readonly excluded: string[] = [];
  private left: number;
  private skippedThisRound = false;

  /** `running(null)` is the queue's RUNNING count, `running(type)` one type's. */
  constructor(limits: readonly LimitRule[], running: (type: string | null) => number, want: number) {
    let total = Number.POSITIVE_INFINITY;
    for (const l of limits) {
      if (l.type === '') total = Math.max(0, l.maxRunning - running(null));
      else this.perType.set(l.type, Math.max(0, l.maxRunning - running(l.type)));
    }
    this.left = Math.min(want, total);
    for (const [type, left] of this.perType) if (left <= 0) this.excluded.push(type);
  }

  /** How many tasks the claim may still take. */
  get wanted(): number {
    return this.left;
  }

  /** Most rounds a claim needs: one, plus one per limited type that can run out. */
  get maxRounds(): number {
    return this.perType.size + 1;
  }

  /** Whether this candidate's type has budget left; if so, its slot is reserved. */
  offer(type: string): boolean {
    const left = this.perType.get(type);
    if (left === undefined) return true;
    if (left <= 0) {
      if (!this.excluded.includes(type)) this.excluded.push(type);
      this.skippedThisRound = true;
      return false;
    }
    this.perType.set(type, left - 1);
    return true;
  }

  /** A candidate offered a slot was not claimed after all (another writer took it): its slot is free again. */
  release(type: string): void {
    const left = this.perType.get(type);
    if (left !== undefined) this.perType.set(type, left + 1);
  }

  /** A candidate was claimed. */
  took(): void {
    this.left--;
  }

  /** Ends a round: true when another one (with the new exclusions) could find more. */
  endRound(): boolean {
    const again = this.skippedThisRound && this.left > 0;
    this.skippedThisRound = false;
    return again;
  }
}

/** Highest number of distinct priority levels WEIGHTED_RANDOM weighs one by one. */
export const MAX_LEVELS = 32;

/** A level to draw from: one priority, or (the tail) every priority after `priority`. */
export interface Level {
  priority: number;
  mode: 'eq' | 'gt';
  weight: number;
}

/**
 * The levels of WEIGHTED_RANDOM from the distinct priorities found, most urgent first
 * (at most MAX_LEVELS), and whether more lie beyond: rank r weighs 1 / (r + 1), and
 * the rest become one tail level of weight 1 / (MAX_LEVELS + 1), so that a worker never
 * starves behind many levels of work: every level keeps a probability of at least
 * 1 / (33 * H(33)) per draw.
 */
export function weightedLevels(found: readonly number[], more: boolean): Level[] {
  const levels: Level[] = found.map((priority, rank) => ({ priority, mode: 'eq', weight: 1 / (rank + 1) }));
  if (more && found.length > 0) levels.push({ priority: found[found.length - 1]!, mode: 'gt', weight: 1 / (MAX_LEVELS + 1) });
  return levels;
}

/** Which level a draw `r` in [0, 1) lands on, with probability proportional to weight. */
export function drawLevel(levels: readonly Level[], r: number): number {
  let at = r * levels.reduce((a, l) => a + l.weight, 0);
  let i = 0;
  while (i < levels.length - 1 && at >= levels[i]!.weight) {
    at -= levels[i]!.weight;
    i++;
  }
  return i;
}

export type Order = 'PRIORITY' | 'FIFO' | 'LIFO';

export function comparator(order: Order): (a: Candidate, b: Candidate) => number {
  if (order === 'PRIORITY') return (a, b) => a.priority - b.priority || a.id - b.id;
  if (order === 'FIFO') return (a, b) => a.id - b.id;
  return (a, b) => b.id - a.id;
}

/** Merges lists that are each sorted by `cmp`, keeping the first `limit`. */
export function mergeSorted(lists: Candidate[][], cmp: (a: Candidate, b: Candidate) => number, limit: number): Candidate[] {
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
