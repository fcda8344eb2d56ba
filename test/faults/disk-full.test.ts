/**
 * Fault 5: the disk fills up under a running server. The database lives on a small
 * tmpfs mounted for this test; a filler file takes the last byte. Writes that need new
 * space get a clear STORAGE error ("the disk is full") and leave nothing behind; reads
 * and /health go on; and once space comes back the same server (not restarted) takes
 * the same writes.
 *
 * This needs root (mount -t tmpfs). Where mounting is not permitted the test fails and
 * says so: it must never pass without having filled a disk.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENQUEUE, errorCode } from './fixtures/gql.js';
import { ServerProcess, freePort, integrity } from './server.js';

const MOUNT_SIZE = '16m';
const BIG = 1024 * 1024; // a payload larger than the WAL as it stands, so it must take new space

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: 'pipe' });
}

/** Writes until the filesystem says ENOSPC; returns the bytes written. */
function fill(path: string): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (const size of [256 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 0x5a);
      try {
        for (;;) written += writeSync(fd, chunk);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

describe('fault: the disk fills up under the server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskwire-fault-full-'));
  let mounted = false;
  let mountProblem = '';
  let server: ServerProcess | null = null;

  beforeAll(() => {
    try {
      sh('mount', ['-t', 'tmpfs', '-o', `size=${MOUNT_SIZE},mode=0700`, 'tmpfs', dir]);
      mounted = true;
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      mountProblem = (err.stderr?.toString() || err.message).trim();
    }
  });

  afterAll(async () => {
    await server?.stop();
    if (mounted) {
      try {
        sh('umount', [dir]);
      } catch {
        sh('umount', ['-l', dir]); // something still holds it: detach it anyway
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses writes with STORAGE, keeps serving reads, and recovers when space comes back', { timeout: 120_000 }, async () => {
    if (!mounted) {
      throw new Error(
        `cannot run the disk-full test: mounting a ${MOUNT_SIZE} tmpfs on ${dir} failed (${mountProblem}). ` +
          'It needs root, or CAP_SYS_ADMIN, to mount a small filesystem it can fill; run the suite as root or in a container that allows mounts.',
      );
    }
    const dbPath = join(dir, 'full.db');
    server = new ServerProcess({
      dbPath,
      port: await freePort(),
      env: { TASKWIRE_SWEEP_INTERVAL_MS: '200', TASKWIRE_MAX_PAYLOAD_BYTES: String(4 * BIG) },
    });
    await server.start();
    const pid = server.pid;
    for (let n = 1; n <= 3; n++) await server.ok(ENQUEUE, { input: { type: 'fault', payload: { n }, idempotencyKey: `small-${n}` } });
    const claimed = (await server.ok(`mutation { claimTasks(input: { workerId: "w", limit: 1 }) { leaseToken task { id } } }`)).claimTasks[0];
    const READ = `{ queueStats { counts { status count } } tasks(filter: { idempotencyKey: "big" }) { edges { node { id } } } }`;
    const before = await server.ok(READ);
    expect(statSync(`${dbPath}-wal`).size).toBeLessThan(BIG);

    // The disk fills up.
    const filled = fill(join(dir, 'filler'));
    expect(filled).toBeGreaterThan(0);
    expect(() => fill(join(dir, 'filler-2'))).not.toThrow(); // and stays full: not one more byte
    expect(statSync(join(dir, 'filler-2')).size).toBe(0);

    // Writes that need space: a clear error, nothing half-done.
    const enqueue = () => server!.gql(ENQUEUE, { input: { type: 'fault', payload: { pad: 'x'.repeat(BIG) }, idempotencyKey: 'big' } });
    const complete = () =>
      server!.gql(`mutation ($i: CompleteTaskInput!) { completeTask(input: $i) { status result } }`, {
        i: { taskId: claimed.task.id, leaseToken: claimed.leaseToken, result: { pad: 'r'.repeat(BIG) } },
      });
    for (const attempt of [enqueue, complete]) {
      const r = await attempt();
      expect(r.data).toBeNull();
      expect(errorCode(r), JSON.stringify(r.errors)).toBe('STORAGE');
      expect(r.errors![0]!.message).toMatch(/disk is full/);
    }

    // Reads and /health go on, and show the state from before the failed writes.
    expect(await server.healthy(3000)).toBe(true);
    expect(await server.ok(READ)).toEqual(before);
    const task = await server.ok(`query ($id: ID!) { task(id: $id) { status } }`, { id: claimed.task.id });
    expect(task.task.status).toBe('RUNNING');
    expect(server.running).toBe(true);

    // Space comes back: the same server, unrestarted, takes the same writes.
    rmSync(join(dir, 'filler'));
    rmSync(join(dir, 'filler-2'));
    const e2 = await enqueue();
    expect(e2.errors, JSON.stringify(e2.errors)).toBeUndefined();
    expect(e2.data.enqueueTask.created).toBe(true); // the refused one left no task behind
    const c2 = await complete();
    expect(c2.errors, JSON.stringify(c2.errors)).toBeUndefined(); // the lease survived the refused completion
    expect(c2.data.completeTask.status).toBe('SUCCEEDED');
    const more = await server.ok(`mutation { claimTasks(input: { workerId: "w", limit: 5 }) { task { id } } }`);
    expect(more.claimTasks).toHaveLength(3);
    expect(server.pid).toBe(pid);

    expect(server.output).not.toMatch(/unexpected error|uncaught/i);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect(integrity(dbPath)).toBe('ok');
  });
});
