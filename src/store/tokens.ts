/**
 * API tokens. A token is `tw_<id>_<secret>`: the id finds the row, the secret (32 random
 * bytes) proves possession. Only a SHA-256 hash of the whole token is stored; a fast hash
 * is enough because the secret has 256 bits of entropy, so there is nothing to guess.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

import type { Role } from './types.js';

export const ROLES: readonly Role[] = ['admin', 'producer', 'worker', 'viewer'];

export interface NewToken {
  id: string;
  token: string;
  hash: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateToken(): NewToken {
  const id = randomBytes(6).toString('hex');
  const token = `tw_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, token, hash: hashToken(token) };
}

/** The id inside a well-formed token, or null. */
export function tokenId(token: string): string | null {
  const m = /^tw_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/.exec(token);
  return m ? m[1]! : null;
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
