/**
 * Summarizes a V8 .cpuprofile (node --cpu-prof): top self-time functions, the split by
 * package, and the inclusive time of the request's steps, optionally restricted to a time
 * window (the profile's timestamps are CLOCK_MONOTONIC microseconds, the same clock as
 * process.hrtime.bigint() in any process on the machine).
 *
 *   npx tsx bench/profile.ts <file.cpuprofile | dir> [top=30]
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  /** Sampled time in the window, ms (idle included). */
  windowMs: number;
  /** Non-idle sampled time, ms. */
  busyMs: number;
  top: { name: string; where: string; group: string; ms: number; pct: number }[];
  groups: { group: string; ms: number; pct: number }[];
  steps: { step: string; ms: number; pct: number }[];
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Newest .cpuprofile in a directory, or the file itself. */
export function findProfile(path: string): string {
  if (statSync(path).isFile()) return path;
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (tsx's
  // module loader runs on a worker thread that writes its own profile).
  const files = readdirSync(path)
    .filter((f) => f.endsWith('.cpuprofile') && (f.split('.')[4] ?? '0') === '0')
    .map((f) => join(path, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!files[0]) throw new Error(`no .cpuprofile in ${path}`);
  return files[0];
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const root = url.indexOf(ROOT.replace(/\/$/, ''));
  if (root >= 0) return url.slice(root + ROOT.length - (ROOT.endsWith('/') ? 0 : -1)).replace(/^\//, '');
  return url.replace(/^file:\/\//, '');
}

function packageOf(url: string): string | null {
  const nm = url.lastIndexOf('node_modules/');
  if (nm < 0) return null;
  const parts = url.slice(nm + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** The package group a JavaScript frame belongs to, or null for a native/builtin frame (no url). */
function groupOfUrl(url: string): string | null {
  if (!url) return null;
  const pkg = packageOf(url);
  if (pkg) {
    if (pkg === 'graphql-yoga' || pkg.startsWith('@graphql-yoga/')) return 'graphql-yoga';
    if (pkg.startsWith('@whatwg-node/')) return '@whatwg-node (yoga fetch API)';
    if (pkg.startsWith('@envelop/')) return '@envelop';
    if (pkg === 'graphql') return 'graphql-js';
    if (pkg === 'graphql-ws') return 'graphql-ws';
    if (pkg === 'ws') return 'ws';
    // V8 profiles show no frames for native addon calls: their time is the caller's self
    // time. The transaction wrapper's self time is BEGIN/COMMIT (WAL writes, checkpoints).
    if (pkg === 'better-sqlite3') return 'better-sqlite3 (incl. native BEGIN/COMMIT: WAL writes, checkpoints)';
    if (pkg.startsWith('@pothos/')) return '@pothos';
    if (pkg.startsWith('@escape.tech/')) return 'graphql-armor';
    if (pkg === 'pino' || pkg.startsWith('pino-') || pkg === 'sonic-boom') return 'pino';
    if (pkg === 'tsx' || pkg === 'esbuild' || pkg === 'get-tsconfig') return 'tsx (loader)';
    return pkg;
  }
  if (url.startsWith('node:')) return 'node core';
  if (url.includes('/src/store/')) return 'taskwire: src/store (incl. native SQLite statement execution)';
  if (url.includes('/src/graphql/')) return 'taskwire: src/graphql';
  if (url.includes('/src/events/')) return 'taskwire: src/events';
  if (url.includes('/src/')) return 'taskwire: src (other)';
  if (url.includes('/bench/')) return 'bench';
  return 'other JS';
}

const SQLITE_NATIVE = new Set(['run', 'get', 'all', 'iterate', 'exec', 'pragma', 'prepare', 'transaction', 'raw', 'pluck', 'bind']);

/** Inclusive steps: a sample counts for a step when any frame on its stack matches. */
const STEPS: [string, (f: CallFrame, parentGroup: string | null) => boolean][] = [
  ['node:http request handling (server callback and below)', (f) => f.functionName === 'parserOnIncoming' && f.url.includes('_http_server')],
  ['HTTP fast path (handleJsonPost, src/graphql/http.ts)', (f) => f.functionName === 'handleJsonPost'],
  ['yoga request handler (yoga(req,res), non-fast path)', (f) => f.url.includes('graphql-yoga') && f.functionName === 'handleNodeRequestAndResponse'],
  ['graphql-ws server (message handling)', (f) => f.url.includes('graphql-ws')],
  ['getEnveloped (envelop orchestrator setup per request)', (f) => f.functionName === 'getEnveloped'],
  ['parse (graphql-js parser)', (f) => f.url.includes('graphql/language/parser') && f.functionName === 'parse'],
  ['validate (graphql-js)', (f) => f.url.includes('graphql/validation/validate') && f.functionName === 'validate'],
  ['graphql-armor plugins', (f) => f.url.includes('graphql-armor')],
  ['context factory (principal lookup)', (f) => f.url.includes('/src/graphql/auth') || f.functionName === 'contextFactory'],
  ['execute (graphql-js execute)', (f) => f.url.includes('graphql/execution/execute') && (f.functionName === 'execute' || f.functionName === 'executeImpl')],
  ['  coerce variables (getVariableValues)', (f) => f.functionName === 'getVariableValues'],
  ['  resolvers (src/graphql/types)', (f) => f.url.includes('/src/graphql/types/')],
  ['  engine (src/store)', (f) => f.url.includes('/src/store/')],
  ['  pothos wrappers', (f) => f.url.includes('@pothos/')],
  ['  dataloader', (f) => f.url.includes('/dataloader/')],
  ['error masking (maskError)', (f) => f.functionName === 'maskError'],
  ['event bus listeners (src/events)', (f) => f.url.includes('/src/events/')],
  ['subscriptions (src/graphql/subscriptions)', (f) => f.url.includes('/src/graphql/subscriptions')],
  ['JSON.stringify', (f) => !f.url && f.functionName === 'stringify'],
  ['JSON.parse', (f) => !f.url && f.functionName === 'parse'],
  ['socket writes (node:net / stream write)', (f) => f.url === 'node:net' && (f.functionName === 'Socket._writeGeneric' || f.functionName === '_writeGeneric' || f.functionName === 'writeGeneric' || f.functionName === 'Socket._writev')],
  ['background timers (src/server/background.ts)', (f) => f.url.includes('/src/server/background')],
  ['pino logging', (f) => (packageOf(f.url) ?? '').startsWith('pino')],
];

export function summarizeProfile(file: string, window?: { fromUs: number; toUs: number }, topN = 30): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) byId.set(n.id, n);
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Self time per node in the window. timeDeltas[i] is the time since the previous
  // sample; charge the interval after each sample to it.
  const self = new Map<number, number>();
  let t = p.startTime;
  const times: number[] = [];
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    times.push(t);
  }
  const from = window?.fromUs ?? -Infinity;
  const to = window?.toUs ?? Infinity;
  const sampleDur: number[] = [];
  for (let i = 0; i < p.samples.length; i++) {
    const next = i + 1 < times.length ? times[i + 1]! : p.endTime;
    const d = Math.max(0, next - times[i]!);
    sampleDur.push(times[i]! >= from && times[i]! <= to ? d : 0);
    if (sampleDur[i]) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + sampleDur[i]!);
  }

  // Group of each node: its own package, or for natives the nearest JS caller's.
  const groupCache = new Map<number, string>();
  const nearestJsGroup = (id: number): string | null => {
    let cur: number | undefined = parent.get(id);
    while (cur !== undefined) {
      const g = groupOfUrl(byId.get(cur)!.callFrame.url);
      if (g) return g;
      cur = parent.get(cur);
    }
    return null;
  };
  const groupOf = (id: number): string => {
    const cached = groupCache.get(id);
    if (cached) return cached;
    const f = byId.get(id)!.callFrame;
    let g: string;
    if (f.functionName === '(idle)') g = '(idle)';
    else if (f.functionName === '(garbage collector)') g = 'GC';
    else if (f.functionName === '(program)') g = '(program: V8/native outside JS)';
    else if (f.functionName === '(root)') g = '(root)';
    else {
      const own = groupOfUrl(f.url);
      if (own) g = own;
      else {
        const caller = nearestJsGroup(id);
        if (SQLITE_NATIVE.has(f.functionName) && caller && (caller.startsWith('taskwire') || caller.startsWith('better-sqlite3'))) {
          g = 'better-sqlite3 (native SQLite)';
        } else g = caller ? `${caller}` : 'native (no JS caller)';
      }
    }
    groupCache.set(id, g);
    return g;
  };

  let windowUs = 0;
  let idleUs = 0;
  const groups = new Map<string, number>();
  const fns = new Map<string, { name: string; where: string; group: string; us: number }>();
  for (const [id, us] of self) {
    windowUs += us;
    const g = groupOf(id);
    if (g === '(idle)') {
      idleUs += us;
      continue;
    }
    groups.set(g, (groups.get(g) ?? 0) + us);
    const f = byId.get(id)!.callFrame;
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : `native, under ${g}`;
    const key = `${f.functionName}|${where}`;
    const e = fns.get(key) ?? { name: f.functionName || '(anonymous)', where, group: g, us: 0 };
    e.us += us;
    fns.set(key, e);
  }
  const busyUs = windowUs - idleUs;

  // Inclusive steps.
  const steps = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const d = sampleDur[i]!;
    if (!d) continue;
    let cur: number | undefined = p.samples[i]!;
    if (groupOf(cur) === '(idle)') continue;
    const hit = new Set<string>();
    while (cur !== undefined) {
      const f = byId.get(cur)!.callFrame;
      const pg = f.url ? null : nearestJsGroup(cur);
      for (const [label, test] of STEPS) if (!hit.has(label) && test(f, pg)) hit.add(label);
      cur = parent.get(cur);
    }
    for (const label of hit) steps.set(label, (steps.get(label) ?? 0) + d);
  }

  const pct = (us: number) => (busyUs > 0 ? (us / busyUs) * 100 : 0);
  return {
    file,
    windowMs: windowUs / 1000,
    busyMs: busyUs / 1000,
    top: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((f) => ({ name: f.name, where: f.where, group: f.group, ms: f.us / 1000, pct: pct(f.us) })),
    groups: [...groups]
      .sort((a, b) => b[1] - a[1])
      .map(([group, us]) => ({ group, ms: us / 1000, pct: pct(us) })),
    steps: STEPS.map(([label]) => label)
      .filter((l) => steps.has(l))
      .map((step) => ({ step, ms: steps.get(step)! / 1000, pct: pct(steps.get(step)!) })),
  };
}

export function formatProfile(s: ProfileSummary, title: string, perOp?: { ops: number; unit: string }): string {
  const out: string[] = [];
  const us = (ms: number) => (perOp ? `${((ms * 1000) / perOp.ops).toFixed(1).padStart(7)} us/${perOp.unit}` : '');
  out.push(`${title}`);
  out.push(
    `profile ${s.file}: ${s.windowMs.toFixed(0)} ms sampled in the window, ${s.busyMs.toFixed(0)} ms busy (${((s.busyMs / s.windowMs) * 100).toFixed(0)}%)` +
      (perOp ? `, ${perOp.ops.toLocaleString('en-US')} ${perOp.unit}s => ${((s.busyMs * 1000) / perOp.ops).toFixed(1)} us CPU per ${perOp.unit}` : ''),
  );
  out.push('V8 samples the main thread by wall clock: time blocked in a syscall (fsync in a checkpoint) or preempted (the');
  out.push('client woken on the same core by a socket write) counts where it happened. Native calls have no frames of their');
  out.push("own: SQLite's work is the self time of the engine function that ran the statement, and of better-sqlite3's");
  out.push('transaction wrapper for BEGIN/COMMIT. Per-op figures divide sampled time by operations.');
  out.push('');
  out.push('split by package (self time):');
  for (const g of s.groups.filter((x) => x.pct >= 0.3)) out.push(`  ${g.pct.toFixed(1).padStart(5)}%  ${us(g.ms)}  ${g.group}`);
  const sum = (test: (g: string) => boolean) => s.groups.filter((g) => test(g.group)).reduce((a, g) => a + g.ms, 0);
  const engineMs = sum((g) => g.startsWith('taskwire: src/store') || g.startsWith('better-sqlite3'));
  const gqlMs = sum((g) => /^(graphql-yoga|@whatwg-node|@envelop|graphql-js|@graphql-tools|@pothos|graphql-ws|ws$|graphql-armor|lru-cache|dataloader)/.test(g));
  const share = (ms: number) => `${((ms / s.busyMs) * 100).toFixed(1).padStart(5)}%  ${us(ms)}`;
  out.push('');
  out.push('aggregates:');
  out.push(`  ${share(engineMs)}  engine + SQLite (src/store + better-sqlite3)`);
  out.push(`  ${share(gqlMs)}  GraphQL stack (yoga, @whatwg-node, envelop, graphql-js, @graphql-tools, pothos, graphql-ws, ws, armor, lru-cache)`);
  out.push(`  ${share(sum((g) => g === 'node core'))}  node core (http, net, streams, timers, AbortController, async_hooks)`);
  out.push(`  ${share(sum((g) => g === 'GC'))}  GC`);
  out.push(`  ${share(sum((g) => g.startsWith('taskwire') && !g.startsWith('taskwire: src/store')))}  our other code (src/graphql, src/app.ts, src/events, ...)`);
  out.push('');
  out.push('inclusive time of the steps (a sample counts for every step on its stack, so steps nest and overlap):');
  for (const st of s.steps) out.push(`  ${st.pct.toFixed(1).padStart(5)}%  ${us(st.ms)}  ${st.step}`);
  out.push('');
  out.push(`top ${s.top.length} functions by self time (% of busy):`);
  for (const f of s.top) out.push(`  ${f.pct.toFixed(1).padStart(5)}%  ${f.name.padEnd(34).slice(0, 34)}  ${f.where}  [${f.group}]`);
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = process.argv[2];
  if (!target) {
    console.error('usage: tsx bench/profile.ts <file.cpuprofile | dir> [top]');
    process.exit(2);
  }
  const file = findProfile(target);
  console.log(formatProfile(summarizeProfile(file, undefined, Number(process.argv[3] ?? 30)), file));
}
