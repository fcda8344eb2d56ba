/**
 * Retry delays: full jitter ("Exponential Backoff and Jitter", AWS Architecture Blog):
 * the n-th retry waits a uniformly random time in [0, min(cap, base * 2^(n-1))), which
 * spreads retries of tasks that failed together instead of retrying them in waves.
 */
export function backoffDelayMs(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
