/** SQLite statements on concurrency limits and access tokens. */
import type { Ops } from '../../driver.js';
import type { Role, TokenInfo } from '../../types.js';
import type { Statements } from '../statements.js';

interface TokenRow {
  id: string;
  name: string;
  role: Role;
  worker_id: string | null;
  token_hash: string;
  created_at: number;
  revoked_at: number | null;
}

function toTokenInfo(r: TokenRow): TokenInfo {
  return { id: r.id, name: r.name, role: r.role, workerId: r.worker_id, createdAt: r.created_at, revokedAt: r.revoked_at };
}

export type AdminOps = Pick<
  Ops,
  | 'setConcurrencyLimit'
  | 'deleteConcurrencyLimit'
  | 'listConcurrencyLimits'
  | 'insertToken'
  | 'revokeToken'
  | 'listTokens'
  | 'tokenWithHash'
  | 'anyToken'
>;

export function adminOps(sql: Statements): AdminOps {
  return {
    setConcurrencyLimit(queue, type, maxRunning) {
      sql
        .get(
          `INSERT INTO concurrency_limits (queue, type, max_running) VALUES (?, ?, ?)
           ON CONFLICT (queue, type) DO UPDATE SET max_running = excluded.max_running`,
        )
        .run(queue, type, maxRunning);
    },

    deleteConcurrencyLimit(queue, type) {
      sql.get('DELETE FROM concurrency_limits WHERE queue = ? AND type = ?').run(queue, type);
    },

    listConcurrencyLimits() {
      return sql.get('SELECT queue, type, max_running AS maxRunning FROM concurrency_limits ORDER BY queue, type').all() as {
        queue: string;
        type: string;
        maxRunning: number;
      }[];
    },

    insertToken(t) {
      sql
        .get('INSERT INTO api_tokens (id, name, role, worker_id, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(t.id, t.name, t.role, t.workerId, t.hash, t.createdAt);
    },

    revokeToken(id, at) {
      const row = sql.get('UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING *').get(at, id) as TokenRow | undefined;
      return row ? toTokenInfo(row) : null;
    },

    listTokens() {
      return (sql.get('SELECT * FROM api_tokens ORDER BY created_at, id').all() as TokenRow[]).map(toTokenInfo);
    },

    tokenWithHash(id) {
      const row = sql.get('SELECT * FROM api_tokens WHERE id = ?').get(id) as TokenRow | undefined;
      return row ? { info: toTokenInfo(row), hash: row.token_hash } : null;
    },

    anyToken() {
      return !!sql.get('SELECT 1 FROM api_tokens LIMIT 1').get();
    },
  };
}
