/** SQLite statements on concurrency limits and access tokens. */
import type { AdminOpName, Ops } from '../../driver.js';
import { toTokenInfo, type TokenRow } from '../../rows.js';
import type { Statements } from '../statements.js';

export type AdminOps = Pick<Ops, AdminOpName>;

export function adminOps(sql: Statements): AdminOps {
  // Each operation's statements, prepared on first use and held here (Statements.once).
  const q = {
    setConcurrencyLimit: sql.once(`INSERT INTO concurrency_limits (queue, type, max_running) VALUES (?, ?, ?)
           ON CONFLICT (queue, type) DO UPDATE SET max_running = excluded.max_running`),
    deleteConcurrencyLimit: sql.once('DELETE FROM concurrency_limits WHERE queue = ? AND type = ?'),
    listConcurrencyLimits: sql.once('SELECT queue, type, max_running AS maxRunning FROM concurrency_limits ORDER BY queue, type'),
    insertToken: sql.once('INSERT INTO api_tokens (id, name, role, worker_id, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
    revokeToken: sql.once('UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING *'),
    listTokens: sql.once('SELECT * FROM api_tokens ORDER BY created_at, id'),
    tokenWithHash: sql.once('SELECT * FROM api_tokens WHERE id = ?'),
    anyToken: sql.once('SELECT 1 FROM api_tokens LIMIT 1'),
    insertPause: sql.once('INSERT INTO queue_pauses (queue, type, paused_at) VALUES (?, ?, ?) ON CONFLICT (queue, type) DO NOTHING'),
    deletePause: sql.once('DELETE FROM queue_pauses WHERE queue = ? AND type = ?'),
    listPauses: sql.once('SELECT queue, type, paused_at AS pausedAt FROM queue_pauses ORDER BY queue, type'),
  };
  return {
    setConcurrencyLimit(queue, type, maxRunning) {
      q.setConcurrencyLimit().run(queue, type, maxRunning);
    },

    deleteConcurrencyLimit(queue, type) {
      q.deleteConcurrencyLimit().run(queue, type);
    },

    insertPauseUnlessPaused(queue, type, now) {
      return q.insertPause().run(queue, type, now).changes > 0;
    },

    deletePauseIfPaused(queue, type) {
      return q.deletePause().run(queue, type).changes > 0;
    },

    listPauses() {
      return q.listPauses().all() as { queue: string; type: string; pausedAt: number }[];
    },

    listConcurrencyLimits() {
      return q.listConcurrencyLimits().all() as {
        queue: string;
        type: string;
        maxRunning: number;
      }[];
    },

    insertToken(t) {
      q.insertToken().run(t.id, t.name, t.role, t.workerId, t.hash, t.createdAt);
    },

    revokeToken(id, at) {
      const row = q.revokeToken().get(at, id) as TokenRow | undefined;
      return row ? toTokenInfo(row) : null;
    },

    listTokens() {
      return (q.listTokens().all() as TokenRow[]).map(toTokenInfo);
    },

    tokenWithHash(id) {
      const row = q.tokenWithHash().get(id) as TokenRow | undefined;
      return row ? { info: toTokenInfo(row), hash: row.token_hash } : null;
    },

    anyToken() {
      return !!q.anyToken().get();
    },
  };
}
