/**
 * `taskwire/worker` runs in other people's projects, often with no server beside it: its
 * module graph (every static and dynamic import, followed through node_modules) must hold
 * nothing of the server. The tarball test checks the same of the built package at run
 * time; this one names the offending import chain, from the sources, in a second.
 */
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const SERVER_ONLY = /(^|\/)node_modules\/(better-sqlite3|graphql-yoga|@graphql-yoga|@pothos|@envelop|pino|prom-client|croner|dataloader)\/|^src\/(store|graphql|events|observability|dashboard|app|server|cli|config)\b/;

async function graphOf(entry: string): Promise<Metafile> {
  const result = await build({ entryPoints: [entry], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', logLevel: 'silent', outdir: 'out' });
  return result.metafile;
}

/** The chain of imports from the entry to `target`, for the failure message. */
function chainTo(meta: Metafile, entry: string, target: string): string[] {
  const seen = new Map<string, string | null>([[entry, null]]);
  const queue = [entry];
  while (queue.length) {
    const file = queue.shift()!;
    if (file === target) break;
    for (const imp of meta.inputs[file]?.imports ?? []) {
      if (!seen.has(imp.path)) {
        seen.set(imp.path, file);
        queue.push(imp.path);
      }
    }
  }
  const chain: string[] = [];
  for (let at: string | null | undefined = target; at; at = seen.get(at)) chain.unshift(at);
  return chain;
}

describe('the worker entry', () => {
  it('imports nothing of the server (no better-sqlite3, yoga, Pothos, store or GraphQL types)', async () => {
    const entry = 'src/worker/index.ts';
    const meta = await graphOf(entry);
    const inputs = Object.keys(meta.inputs);
    expect(inputs).toContain('src/worker/connection.ts');
    expect(inputs.some((f) => f.includes('node_modules/graphql-ws/'))).toBe(true);
    const offending = inputs.filter((f) => SERVER_ONLY.test(f));
    expect(offending.map((f) => chainTo(meta, entry, f).join(' -> '))).toEqual([]);
  });

  it('the check has teeth: the server entry does pull them in', async () => {
    const meta = await graphOf('src/index.ts');
    expect(Object.keys(meta.inputs).some((f) => f.includes('node_modules/better-sqlite3/'))).toBe(true);
  });
});
