/**
 * A private, throwaway PostgreSQL cluster for one test file: initdb into a fresh temporary
 * directory, a server on 127.0.0.1 at a free port, and stop / start / restart for fault
 * tests that take the database away under load. The machine's shared cluster (5432) is
 * never touched: other suites use it at the same time.
 *
 * PostgreSQL refuses to run as root, and CI runs the tests as root from a clone under a
 * 0700 /tmp/taskwire-ci.* folder: so as root the binaries run as the `postgres` OS user
 * (runuser), in a directory of the OS temp folder that user owns, with that directory as
 * their working directory (initdb and pg_ctl fail when they cannot read their cwd).
 * Not as root, they run as the current user.
 *
 *   const cluster = await startPgCluster();
 *   cluster.url('taskwire_schema')   // postgres://postgres@127.0.0.1:<port>/postgres?schema=...
 *   await cluster.restart({ downMs: 1500 });
 *   await cluster.cleanup();         // stops it (immediate) and removes the directory
 */
import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../scripts/free-port.js';

export type StopMode = 'smart' | 'fast' | 'immediate';

export interface PgCluster {
  readonly port: number;
  readonly dir: string;
  /** Whether the server is meant to be up (start() ran after the last stop()). */
  readonly running: boolean;
  /** A Taskwire database URL on this cluster, in `schema` (plus any other query keys). */
  url(schema?: string, extra?: Record<string, string>): string;
  /** A plain connection string for pg (no Taskwire keys). */
  readonly connectionString: string;
  /** pg_ctl stop -m <mode> (default fast), waiting until the server is gone. */
  stop(mode?: StopMode): Promise<void>;
  /** pg_ctl start, waiting until it accepts connections. */
  start(): Promise<void>;
  /** stop, `downMs` of nothing, start. */
  restart(options?: { mode?: StopMode; downMs?: number }): Promise<void>;
  /** The server's log (for failure messages). */
  log(): string;
  /** Stops the server (immediate) if it runs and removes the directory. Never throws. */
  cleanup(): Promise<void>;
}

export interface PgClusterOptions {
  /** Extra postgresql.conf lines. */
  settings?: Record<string, string | number>;
}

const USER = 'postgres';
const DATABASE = 'postgres';

/** The directory of initdb/pg_ctl: TASKWIRE_PG_BIN, else Debian's newest /usr/lib/postgresql/<v>/bin, else pg_config's. */
export function pgBinDir(): string {
  if (process.env.TASKWIRE_PG_BIN) return process.env.TASKWIRE_PG_BIN;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('no PostgreSQL server binaries found: install them (Debian: postgresql) or set TASKWIRE_PG_BIN to the folder holding initdb and pg_ctl');
  }
}

const asRoot = () => process.getuid?.() === 0;

function osUser(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** Runs a PostgreSQL binary (as `postgres` when we are root), in `cwd`; rejects with its output. */
function run(bin: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<string> {
  const [file, argv] = asRoot() ? ['runuser', ['-u', USER, '--', bin, ...args]] : [bin, args];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { cwd, timeout: timeoutMs, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', PGTZ: 'UTC' } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${bin} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

/** A fresh directory under the OS temp folder that the server's user can own and reach. */
function makeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'taskwire-pgcluster-'));
  if (asRoot()) {
    const { uid, gid } = osUser(USER);
    chownSync(dir, uid, gid);
    try {
      execFileSync('runuser', ['-u', USER, '--', 'test', '-w', dir], { cwd: dir, stdio: 'ignore' });
    } catch {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`the ${USER} user cannot reach ${dir}: point TMPDIR at a folder it can traverse (e.g. /tmp)`);
    }
  }
  return dir;
}

/** Directories whose cluster this process started; stopped on exit if a test run ends without cleanup. */
const started = new Set<string>();
let exitHook = false;
function stopOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const data of started) {
      try {
        const bin = join(pgBinDir(), 'pg_ctl');
        const args = ['-D', data, '-m', 'immediate', '-w', 'stop'];
        if (asRoot()) execFileSync('runuser', ['-u', USER, '--', bin, ...args], { cwd: '/', stdio: 'ignore', timeout: 10_000 });
        else execFileSync(bin, args, { cwd: '/', stdio: 'ignore', timeout: 10_000 });
      } catch {
        // Best effort: the process is exiting.
      }
    }
  });
}

export async function startPgCluster(options: PgClusterOptions = {}): Promise<PgCluster> {
  const bin = pgBinDir();
  const dir = makeDir();
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const pgCtl = join(bin, 'pg_ctl');
  const port = await freePort();
  let running = false;

  const cleanup = async () => {
    if (started.has(data)) {
      await run(pgCtl, ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop'], dir).catch(() => {});
      started.delete(data);
    }
    running = false;
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // --no-sync: a throwaway cluster needs no fsync of its initial files.
    await run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', USER, '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], dir);
    const conf = {
      listen_addresses: "'127.0.0.1'",
      port,
      // The socket beside the data, not /var/run/postgresql (which may be missing, or the shared cluster's).
      unix_socket_directories: `'${dir}'`,
      max_connections: 60,
      shared_buffers: "'16MB'",
      max_wal_size: "'256MB'",
      // Writes stay durable (fsync on, synchronous_commit on): an acknowledged enqueue must survive a restart.
      fsync: 'on',
      synchronous_commit: 'on',
      full_page_writes: 'on',
      autovacuum: 'off',
      log_min_messages: 'warning',
      log_connections: 'off',
      log_disconnections: 'off',
      ...options.settings,
    };
    appendFileSync(join(data, 'postgresql.conf'), `\n# taskwire test cluster\n${Object.entries(conf).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`);
  } catch (e) {
    await cleanup();
    throw e;
  }

  const cluster: PgCluster = {
    port,
    dir,
    get running() {
      return running;
    },
    connectionString: `postgres://${USER}@127.0.0.1:${port}/${DATABASE}`,
    url(schema?: string, extra: Record<string, string> = {}) {
      const u = new URL(`postgres://${USER}@127.0.0.1:${port}/${DATABASE}`);
      if (schema) u.searchParams.set('schema', schema);
      for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v);
      return u.toString();
    },
    async start() {
      started.add(data);
      stopOnExit();
      await run(pgCtl, ['-D', data, '-l', logFile, '-w', '-t', '60', 'start'], dir);
      running = true;
      // pg_ctl -w returns once the postmaster says it is ready; one real login makes sure.
      const c = new pg.Client({ connectionString: cluster.connectionString, connectionTimeoutMillis: 5000 });
      try {
        await c.connect();
        await c.query('SELECT 1');
      } finally {
        await c.end().catch(() => {});
      }
    },
    async stop(mode: StopMode = 'fast') {
      running = false;
      await run(pgCtl, ['-D', data, '-m', mode, '-w', '-t', '60', 'stop'], dir);
    },
    async restart({ mode = 'fast', downMs = 1500 }: { mode?: StopMode; downMs?: number } = {}) {
      await cluster.stop(mode);
      await new Promise((r) => setTimeout(r, downMs));
      await cluster.start();
    },
    log() {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    cleanup,
  };

  try {
    await cluster.start();
  } catch (e) {
    const log = cluster.log();
    await cleanup();
    throw new Error(`${(e as Error).message}\n${log.slice(-3000)}`);
  }
  return cluster;
}
