/**
 * OutcomeBatch on its own: what goes out together, what goes out alone, and what each
 * caller is answered when the server refuses a whole batch.
 */
import { describe, expect, it } from 'vitest';
import { OutcomeBatch } from '../../src/worker/batch.js';
import { ConnectionError, GraphQLRequestError } from '../../src/worker/errors.js';

const refusal = (code: string) => new GraphQLRequestError([{ message: code.toLowerCase(), extensions: { code } }]);

/** A fake server: records each request; `refuse(inputs)` returns the error to answer with, if any. */
function server(refuse: (inputs: number[]) => Error | null = () => null) {
  const requests: { kind: 'one' | 'many'; inputs: number[] }[] = [];
  const answer = (inputs: number[]) => {
    const e = refuse(inputs);
    return e ? Promise.reject(e) : Promise.resolve(inputs.map((i) => i * 10));
  };
  const batch = new OutcomeBatch<number, number>(
    (i) => {
      requests.push({ kind: 'one', inputs: [i] });
      return answer([i]).then((a) => a[0]!);
    },
    (inputs) => {
      requests.push({ kind: 'many', inputs });
      return answer(inputs);
    },
    4,
  );
  return { batch, requests };
}

const settled = <T>(ps: Promise<T>[]) => Promise.allSettled(ps);

describe('OutcomeBatch', () => {
  it('sends what is handed in during one turn as one request, in order, and answers each caller', async () => {
    const { batch, requests } = server();
    const answers = await Promise.all([1, 2, 3].map((i) => batch.send(i)));
    expect(requests).toEqual([{ kind: 'many', inputs: [1, 2, 3] }]);
    expect(answers).toEqual([10, 20, 30]);
  });

  it('sends a lone outcome as the single request', async () => {
    const { batch, requests } = server();
    expect(await batch.send(7)).toBe(70);
    await new Promise((r) => setImmediate(r));
    expect(await batch.send(8)).toBe(80);
    expect(requests).toEqual([
      { kind: 'one', inputs: [7] },
      { kind: 'one', inputs: [8] },
    ]);
  });

  it('splits at the batch limit', async () => {
    const { batch, requests } = server();
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => batch.send(i)));
    expect(requests).toEqual([
      { kind: 'many', inputs: [1, 2, 3, 4] },
      { kind: 'many', inputs: [5, 6] },
    ]);
    expect(answers).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('a batch refused for good is sent again one by one: each caller gets the answer for its own input', async () => {
    // Input 2 is refused (a lost lease); a batch with it in is refused as a whole.
    const { batch, requests } = server((inputs) => (inputs.includes(2) ? refusal('LEASE_LOST') : null));
    const results = await settled([1, 2, 3].map((i) => batch.send(i)));
    expect(requests).toEqual([
      { kind: 'many', inputs: [1, 2, 3] },
      { kind: 'one', inputs: [1] },
      { kind: 'one', inputs: [2] },
      { kind: 'one', inputs: [3] },
    ]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as GraphQLRequestError).code))).toEqual([10, 'LEASE_LOST', 30]);
  });

  it('a transient failure rejects every caller with it (their retries batch again)', async () => {
    let down = true;
    const { batch, requests } = server(() => (down ? new ConnectionError('socket closed') : null));
    const results = await settled([1, 2].map((i) => batch.send(i)));
    expect(results.map((r) => r.status === 'rejected' && (r.reason as Error).name)).toEqual(['ConnectionError', 'ConnectionError']);
    expect(requests).toHaveLength(1);
    down = false;
    expect(await Promise.all([1, 2].map((i) => batch.send(i)))).toEqual([10, 20]);
    expect(requests.at(-1)).toEqual({ kind: 'many', inputs: [1, 2] });
  });

  it('a BUSY answer is transient too', async () => {
    const { batch, requests } = server((inputs) => (inputs.length > 1 ? refusal('BUSY') : null));
    const results = await settled([1, 2].map((i) => batch.send(i)));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as GraphQLRequestError).code === 'BUSY')).toBe(true);
    expect(requests).toEqual([{ kind: 'many', inputs: [1, 2] }]);
  });
});
