/** Where the examples find the server: TASKWIRE_URL (default the address `npm start` serves) and TASKWIRE_TOKEN. */
export const url = process.env.TASKWIRE_URL || 'http://127.0.0.1:4000/graphql';
export const token = process.env.TASKWIRE_TOKEN || undefined;

/** Short for a task's global id, for printing: "Task:12" -> 12. */
export function shortId(id: string): string {
  try {
    const decoded = Buffer.from(id, 'base64').toString('utf8');
    const m = /^Task:(\d+)$/.exec(decoded);
    if (m) return m[1]!;
  } catch {
    // not base64
  }
  return id;
}

export function connectionHint(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `${message}\nIs the server running at ${url}? Start it with \`npm start\` (or set TASKWIRE_URL).`;
}
