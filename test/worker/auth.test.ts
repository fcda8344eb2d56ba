/**
 * Tokens: the runner sends its token in graphql-ws connectionParams
 * (`authorization: "Bearer <token>"`). A worker token works; a refused one is reported
 * through the 'error' event (4403 Forbidden) and nothing is claimed.
 */
import { afterEach, expect, test } from 'vitest';
import { ConnectionError, createWorker } from '../../src/worker/index.js';
import { cleanup, enqueue, getTask, quietLogger, startServer, track, waitFor } from './harness.js';

afterEach(cleanup);

test('a worker token in connectionParams is accepted, a wrong one is reported and claims nothing', async () => {
  const server = await startServer();
  const admin = await server.store.createToken({ name: 'ops', role: 'admin' });
  const workerToken = await server.store.createToken({ name: 'w-auth', role: 'worker', workerId: 'w-auth' });
  const id = await enqueue(server, { type: 'secure' }, admin.token);

  let wrongRuns = 0;
  const wrong = track(
    createWorker({
      url: server.url,
      token: `${workerToken.token.slice(0, -4)}AAAA`,
      workerId: 'w-auth',
      waitSeconds: 1,
      logger: quietLogger,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      handler: () => void wrongRuns++,
    }),
  );
  const errors: Error[] = [];
  wrong.on('error', (e) => errors.push(e));
  void wrong.start();
  await waitFor(() => errors.length > 0, 'the refused connection to be reported');
  expect(errors[0]).toBeInstanceOf(ConnectionError);
  expect((errors[0] as ConnectionError).closeCode).toBe(4403);
  await wrong.stop({ timeoutMs: 500 });

  const right = track(
    createWorker({
      url: server.url,
      token: workerToken.token,
      workerId: 'w-auth',
      waitSeconds: 1,
      logger: quietLogger,
      handler: (task) => ({ ranAs: 'w-auth', task: task.id }),
    }),
  );
  const completed: string[] = [];
  right.on('completed', (t) => completed.push(t.id));
  await right.start();
  await waitFor(() => completed.length === 1, 'the task to complete');

  expect(wrongRuns).toBe(0);
  expect(await getTask(server, id, admin.token)).toMatchObject({ status: 'SUCCEEDED', attempts: 1, result: { ranAs: 'w-auth', task: id } });
});
