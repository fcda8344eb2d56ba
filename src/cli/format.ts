/** How the commands print: aligned tables, times, ages, byte sizes, tasks as JSON. */
import type { Task } from '../store/index.js';

export type Cell = string | number;

/** Aligned columns: numbers to the right, text to the left. */
export function table(rows: readonly Cell[][], header?: readonly string[]): string {
  const all: Cell[][] = header ? [[...header], ...rows] : [...rows];
  const columns = Math.max(0, ...all.map((r) => r.length));
  const width = Array.from({ length: columns }, (_, i) => Math.max(...all.map((r) => String(r[i] ?? '').length)));
  const numeric = width.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  return all
    .map((r) =>
      r
        .map((c, i) => (numeric[i] ? String(c).padStart(width[i]!) : String(c).padEnd(width[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** ISO-8601 to the second, or '-' for none. */
export function time(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The two largest units of a duration: "3d 4h", "5m 2s", "0s". */
export function age(seconds: number): string {
  const s = Math.floor(seconds);
  const parts: [number, string][] = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first === -1) return '0s';
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n}${u}`)
    .join(' ');
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** The task with its times as ISO-8601 strings (what `--json` prints). */
export function taskJson(t: Task): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    ...t,
    runAfter: iso(t.runAfter),
    leaseUntil: iso(t.leaseUntil),
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
    startedAt: iso(t.startedAt),
    finishedAt: iso(t.finishedAt),
  };
}

/** One line of at most `max` characters, '-' for none. */
export function truncate(text: string | null, max: number): string {
  if (text === null) return '-';
  const one = text.replace(/\s+/g, ' ');
  return one.length > max ? `${one.slice(0, max - 3)}...` : one;
}
