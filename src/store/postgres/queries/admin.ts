/** PostgreSQL statements on concurrency limits and access tokens. */
import { toTokenInfo, type TokenRow } from '../../rows.js';
import type { AdminOpName } from '../../driver.js';
import { statement, type TxOps } from '../tx.js';

const q = {
  setLimit: statement(
    'set_concurrency_limit',
    `INSERT INTO concurrency_limits (queue, type, max_running) VALUES ($1, $2, $3)
     ON CONFLICT (queue, type) DO UPDATE SET max_running = excluded.max_running`,
  ),
  deleteLimit: statement('delete_concurrency_limit', 'DELETE FROM concurrency_limits WHERE queue = $1 AND type = $2'),
  listLimits: statement<{ queue: string; type: string; maxRunning: number }>(
    'list_concurrency_limits',
    'SELECT queue, type, max_running AS "maxRunning" FROM concurrency_limits ORDER BY queue, type',
  ),
  insertToken: statement(
    'insert_token',
    'INSERT INTO api_tokens (id, name, role, worker_id, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
  ),
  revokeToken: statement<TokenRow>('revoke_token', 'UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2 RETURNING *'),
  listTokens: statement<TokenRow>('list_tokens', 'SELECT * FROM api_tokens ORDER BY created_at, id'),
  tokenWithHash: statement<TokenRow>('token_with_hash', 'SELECT * FROM api_tokens WHERE id = $1'),
  anyToken: statement('any_token', 'SELECT 1 FROM api_tokens LIMIT 1'),
  insertPause: statement(
    'insert_pause_unless_paused',
    'INSERT INTO queue_pauses (queue, type, paused_at) VALUES ($1, $2, $3) ON CONFLICT (queue, type) DO NOTHING',
  ),
  deletePause: statement('delete_pause_if_paused', 'DELETE FROM queue_pauses WHERE queue = $1 AND type = $2'),
  listPauses: statement<{ queue: string; type: string; pausedAt: number }>(
    'list_pauses',
    'SELECT queue, type, paused_at AS "pausedAt" FROM queue_pauses ORDER BY queue, type',
  ),
};

export type AdminQueries = TxOps<AdminOpName>;

export const adminQueries: AdminQueries = {
  async setConcurrencyLimit({ db }, queue, type, maxRunning) {
    await q.setLimit(db, [queue, type, maxRunning]);
  },
  async deleteConcurrencyLimit({ db }, queue, type) {
    await q.deleteLimit(db, [queue, type]);
  },
  listConcurrencyLimits: async ({ db }) => (await q.listLimits(db, [])).rows,
  insertPauseUnlessPaused: async ({ db }, queue, type, now) => ((await q.insertPause(db, [queue, type, now])).rowCount ?? 0) > 0,
  deletePauseIfPaused: async ({ db }, queue, type) => ((await q.deletePause(db, [queue, type])).rowCount ?? 0) > 0,
  listPauses: async ({ db }) => (await q.listPauses(db, [])).rows,
  async insertToken({ db }, t) {
    await q.insertToken(db, [t.id, t.name, t.role, t.workerId, t.hash, t.createdAt]);
  },
  async revokeToken({ db }, id, at) {
    const r = (await q.revokeToken(db, [at, id])).rows[0];
    return r ? toTokenInfo(r) : null;
  },
  listTokens: async ({ db }) => (await q.listTokens(db, [])).rows.map(toTokenInfo),
  async tokenWithHash({ db }, id) {
    const r = (await q.tokenWithHash(db, [id])).rows[0];
    return r ? { info: toTokenInfo(r), hash: r.token_hash } : null;
  },
  anyToken: async ({ db }) => (await q.anyToken(db, [])).rows.length > 0,
};
