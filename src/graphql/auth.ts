/** Turning a bearer token into a Principal, and the per-object rules that scopes cannot express. */
import { TaskwireError, type TaskStore } from '../store/index.js';
import type { Context, Principal } from './context.js';

export const OPEN_PRINCIPAL: Principal = Object.freeze({
  role: 'admin',
  tokenId: null,
  workerId: null,
  name: 'anonymous (access control is off)',
  open: true,
});

/** `Authorization` as sent over HTTP, or in graphql-ws connectionParams. */
export async function principalFor(store: TaskStore, authorization: unknown): Promise<Principal> {
  if (!(await store.hasTokens())) return OPEN_PRINCIPAL;
  if (typeof authorization !== 'string' || authorization.length === 0) {
    throw new TaskwireError('UNAUTHENTICATED', 'this server requires a token: send Authorization: Bearer <token>');
  }
  const m = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (!m) throw new TaskwireError('UNAUTHENTICATED', 'the Authorization header must be "Bearer <token>"');
  const info = await store.authenticate(m[1]!);
  if (!info) throw new TaskwireError('UNAUTHENTICATED', 'the token is unknown or revoked');
  return { role: info.role, tokenId: info.id, workerId: info.workerId, name: info.name, open: false };
}

/** A worker token acts only as its own worker id. */
export function checkWorkerId(ctx: Context, workerId: string): void {
  const bound = ctx.principal.role === 'worker' ? ctx.principal.workerId : null;
  if (bound !== null && bound !== workerId) {
    throw new TaskwireError('FORBIDDEN', `this token is bound to worker ${bound}, not ${workerId}`, { workerId });
  }
}

/** The worker id a lease call must be made by: the token's, for worker tokens. */
export function leaseHolder(ctx: Context): string | null {
  return ctx.principal.role === 'worker' ? ctx.principal.workerId : null;
}
