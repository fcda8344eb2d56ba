/**
 * SQLite-only (it closes the SQLite connection under the server): an unexpected storage
 * failure is masked on every transport (no message, no detail, code
 * INTERNAL_SERVER_ERROR). The driver-neutral error tests are in errors.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { expectMasked, makeSqliteApp, stopApps, wsClient, wsOnce, type GqlResult } from '../helpers/app.js';

afterEach(stopApps);


describe('unexpected errors are masked', () => {
  it('when the database is closed underneath the server', async () => {
    const t = await makeSqliteApp();
    const { wsUrl, url } = await t.listen();
    const client = wsClient(wsUrl);
    await t.ok(`mutation { enqueueTask(input: { type: "x", payload: {} }) { task { id } } }`);
    t.store.db.close();
    const query = `{ tasks { totalCount edges { node { id } } } }`;
    const res = await t.app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    const raw = await res.text();
    expectMasked(JSON.parse(raw) as GqlResult, raw.replace(/secret/g, ''), 'HTTP');
    expect(raw).not.toMatch(/database|connection|sqlite/i);
    const port = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    const portRaw = await port.text();
    expectMasked(JSON.parse(portRaw) as GqlResult, '', 'real port');
    expect(portRaw).not.toMatch(/database|connection|sqlite/i);
    const ws = await wsOnce(client, query);
    expectMasked(ws, '', 'WebSocket');
    expect(JSON.stringify(ws)).not.toMatch(/database|connection|sqlite/i);
  });
});
