/**
 * The package as a user installs it: `npm pack` (which builds dist/ through prepack),
 * the tarball installed into an empty project that has no TypeScript tooling, and there,
 * in plain Node: `npx taskwire serve` on a temporary database, a worker written in plain
 * JavaScript against `taskwire/worker` that completes a task (and loads nothing of the
 * server while it does), and `tsc` checking a consumer file against the shipped .d.ts.
 *
 * better-sqlite3's native binary: npm would download a prebuilt one, or compile it from
 * source for about two minutes when that download fails (it always fails on this
 * network). The install here skips install scripts and puts the binary this clone
 * already built where the prebuilt download would have put it; everything else comes
 * from the tarball's own dependency ranges, resolved afresh as for any user.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/free-port.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MINUTES = 60_000;

let dir: string;
let project: string;
let server: ChildProcess | null = null;
let serverLog = '';
let url: string;

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 4 * MINUTES });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Plain Node with no tsx, no TypeScript, nothing of the clone's environment. */
function plainEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _o, TASKWIRE_DB: _d, ...rest } = process.env;
  return { ...rest, TASKWIRE_LOG_LEVEL: 'info', ...extra };
}

async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data as T;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'taskwire-pack-'));
  // prepack runs `npm run build`: the tarball holds a fresh dist/.
  const printed = run('npm', ['pack', '--json', '--pack-destination', dir], ROOT);
  // The JSON report follows whatever the prepack script printed.
  const packed = JSON.parse(printed.slice(printed.search(/^\[/m))) as { filename: string; files: { path: string }[] }[];
  const tarball = join(dir, packed[0]!.filename);
  (globalThis as Record<string, unknown>).__packedFiles = packed[0]!.files.map((f) => f.path);

  project = join(dir, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball], project);
  const release = join(project, 'node_modules/better-sqlite3/build/Release');
  mkdirSync(release, { recursive: true });
  copyFileSync(join(ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'), join(release, 'better_sqlite3.node'));
}, 6 * MINUTES);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    process.kill(-server.pid!, 'SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('ships the built JavaScript, declarations, bin, schema and dashboard, and no TypeScript sources', () => {
    const files = (globalThis as Record<string, unknown>).__packedFiles as string[];
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/worker/index.js', 'dist/worker/index.d.ts', 'dist/cli.js', 'dist/worker/worker.js.map', 'dist/dashboard/public/dashboard.js', 'bin/taskwire.js', 'schema/schema.graphql']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/') || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
  });

  it('installs with no TypeScript tooling, and the installed exports point at built files', () => {
    const modules = readdirSync(join(project, 'node_modules'));
    expect(modules).not.toContain('tsx');
    expect(modules).not.toContain('typescript');
    expect(modules).not.toContain('esbuild');
    const pkg = JSON.parse(readFileSync(join(project, 'node_modules/taskwire/package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
    for (const entry of ['.', './worker']) {
      const target = pkg.exports[entry]!;
      expect(existsSync(join(project, 'node_modules/taskwire', target.default)), `${entry} -> ${target.default}`).toBe(true);
      expect(existsSync(join(project, 'node_modules/taskwire', target.types)), `${entry} types -> ${target.types}`).toBe(true);
    }
  });

  it('serves with `npx taskwire serve` in plain Node', async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/graphql`;
    // A process group of its own: npx runs the server as its child, and stopping npx
    // alone would leave the server running after the tests.
    server = spawn('npx', ['taskwire', 'serve'], {
      cwd: project,
      env: plainEnv({ PORT: String(port), TASKWIRE_DB: join(dir, 'queue.db') }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    server.stdout!.on('data', (d: Buffer) => (serverLog += d));
    server.stderr!.on('data', (d: Buffer) => (serverLog += d));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const health = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status, () => 0);
      if (health === 200) break;
      if (server.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not come up:\n${serverLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // The dashboard is the prebuilt bundle (esbuild is not installed here).
    const page = await fetch(`http://127.0.0.1:${port}/dashboard.js`);
    expect(page.status).toBe(200);
    expect((await page.text()).length).toBeGreaterThan(1000);
  }, 2 * MINUTES);

  /** Runs a script of the project in plain Node, recording the modules it loads (record-loads.mjs) on stderr. */
  function runRecorded(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', './record-loads.mjs', script], { cwd: project, env: plainEnv({ URL: url }) });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  it('runs a plain-JavaScript worker from `taskwire/worker` that completes a task, loading nothing of the server', async () => {
    const { enqueueTask } = await gql<{ enqueueTask: { task: { id: string } } }>(
      'mutation { enqueueTask(input: {type: "resize", payload: {url: "a.png"}}) { task { id } } }',
    );
    // Records every module the worker's process loads, as file URLs.
    writeFileSync(
      join(project, 'record-loads.mjs'),
      `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(
        `export async function load(url, context, next) { if (url.startsWith('file:')) process.stderr.write('LOADED ' + url + '\\n'); return next(url, context); }`,
      )}));
`,
    );
    writeFileSync(
      join(project, 'worker.mjs'),
      `import { createRequire } from 'node:module';
import { createWorker } from 'taskwire/worker';
const worker = createWorker({
  url: process.env.URL, workerId: 'packed', waitSeconds: 1,
  handler: async (task) => ({ bytes: task.payload.url.length }),
});
worker.on('completed', async (task, result) => {
  // CommonJS modules loaded through require are not seen by the ESM hook: list them too.
  for (const id of Object.keys(createRequire(import.meta.url).cache)) process.stderr.write('LOADED file://' + id + '\\n');
  console.log(JSON.stringify({ id: task.id, result }));
  await worker.stop();
});
await worker.start();
`,
    );
    const out = await runRecorded('worker.mjs');
    expect(out.code, out.stderr).toBe(0);
    const done = JSON.parse(out.stdout.trim().split('\n').pop()!) as { id: string; result: { bytes: number } };
    expect(done).toEqual({ id: enqueueTask.task.id, result: { bytes: 5 } });

    const { task } = await gql<{ task: { status: string; result: unknown } }>('query($id: ID!) { task(id: $id) { status result } }', { id: enqueueTask.task.id });
    expect(task).toEqual({ status: 'SUCCEEDED', result: { bytes: 5 } });

    const loaded = out.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7));
    expect(loaded.some((u) => u.includes('/node_modules/taskwire/dist/worker/'))).toBe(true);
    expect(loaded.some((u) => u.includes('/node_modules/graphql-ws/'))).toBe(true);
    const server = loaded.filter((u) => /\/node_modules\/(better-sqlite3|graphql-yoga|@graphql-yoga|@pothos|pino|prom-client)\/|\/taskwire\/dist\/(store|graphql|app|server|cli)/.test(u));
    expect(server).toEqual([]);
  }, 2 * MINUTES);

  it('`taskwire/client` works in plain Node (with the ws class): enqueue, then watch the task, loading nothing of the server', async () => {
    writeFileSync(
      join(project, 'client.mjs'),
      `import { createRequire } from 'node:module';
import { createClient } from 'taskwire/client';
const WebSocket = createRequire(import.meta.url)('ws');
const tw = createClient({ url: process.env.URL, webSocketImpl: WebSocket });
const { task } = await tw.enqueue({ type: 'from-client', payload: { n: 1 } });
const seen = await new Promise((resolve) => {
  const watch = tw.watchTask(task.id, (t) => { watch.close(); resolve(t); });
});
console.log(JSON.stringify({ id: task.id, status: seen.status, payload: seen.payload }));
await tw.close();
`,
    );
    const out = await runRecorded('client.mjs');
    expect(out.code, out.stderr).toBe(0);
    const seen = JSON.parse(out.stdout.trim().split('\n').pop()!) as { id: string; status: string; payload: unknown };
    expect(seen).toMatchObject({ status: 'QUEUED', payload: { n: 1 } });
    const loaded = out.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7));
    expect(loaded.some((u) => u.includes('/node_modules/taskwire/dist/client/'))).toBe(true);
    expect(loaded.filter((u) => /\/taskwire\/dist\/(?:(?:store|graphql|server|cli|worker)\/|(?:app|cli|server)\.js)/.test(u))).toEqual([]);
  }, 2 * MINUTES);

  it('type-checks a consumer against the shipped declarations: payload and result types flow through createWorker', () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] }, files: ['consumer.ts'] }),
    );
    const consumer = `import { createWorker, NonRetryableError, type WorkerTask } from 'taskwire/worker';

interface Resize { url: string; width: number }
interface Resized { bytes: number }

const worker = createWorker<Resize, Resized>({
  url: 'http://127.0.0.1:4000/graphql',
  handler: async (task: WorkerTask<Resize>, ctx) => {
    const width: number = task.payload.width;
    // @ts-expect-error the payload has no such field
    task.payload.height;
    await ctx.progress(0.5);
    if (!task.payload.url) throw new NonRetryableError('no url');
    return { bytes: width };
  },
});
worker.on('completed', (_task, result) => {
  const bytes: number = result.bytes;
  // @ts-expect-error the result is Resized, not a string
  const wrong: string = result;
  void bytes; void wrong;
});
createWorker<Resize, Resized>({
  url: 'http://127.0.0.1:4000/graphql',
  // @ts-expect-error a handler must return the Result type
  handler: async () => ({ bytes: 'many' }),
});
`;
    writeFileSync(join(project, 'consumer.ts'), consumer);
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const ok = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8' });
    expect(ok.stdout + ok.stderr).toBe('');
    expect(ok.status).toBe(0);

    // And the check has teeth: a wrong payload type is an error.
    writeFileSync(join(project, 'consumer.ts'), consumer.replace('const width: number = task.payload.width;', 'const width: string = task.payload.width;'));
    const bad = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/consumer\.ts.*Type 'number' is not assignable to type 'string'/);
  }, MINUTES);
});
