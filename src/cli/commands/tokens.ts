/** API tokens: `token create`, `token list`, `token revoke`. */
import { ROLES } from '../../store/tokens.js';
import type { Role } from '../../store/index.js';
import { UsageError, type Commands } from '../command.js';
import { table, time } from '../format.js';
import { dbOption, withStore } from '../store.js';

export const tokenCommands: Commands = {
  'token create': {
    summary: 'create an API token; prints it once',
    usage: `taskwire token create --role <${ROLES.join('|')}> --name <name> [--worker-id <id>] [--db <file>]`,
    options: {
      role: { type: 'string', arg: 'role', description: `one of ${ROLES.join(', ')}` },
      name: { type: 'string', arg: 'name', description: 'who or what will use the token' },
      'worker-id': { type: 'string', arg: 'id', description: 'bind a worker token to this worker id' },
      ...dbOption,
    },
    run: async ({ values }) => {
      const role = values.role as Role | undefined;
      if (!role || !ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      if (!values.name) throw new UsageError('--name is required (who or what will use the token)');
      const { token, info } = await withStore(values, (s) =>
        s.createToken({ name: values.name as string, role, workerId: (values['worker-id'] as string | undefined) ?? null }),
      );
      console.log(token);
      console.error(
        `created token ${info.id} (${info.role}${info.workerId ? `, worker id ${info.workerId}` : ''}, "${info.name}").` +
          ' It is shown only this once: store it now. Send it as "Authorization: Bearer <token>".',
      );
    },
  },
  'token list': {
    summary: 'list API tokens (never their secrets)',
    usage: 'taskwire token list [--db <file>]',
    options: dbOption,
    run: async ({ values }) => {
      const tokens = await withStore(values, (s) => s.listTokens());
      if (tokens.length === 0) return console.log('no tokens: access control is off');
      console.log(
        table(
          tokens.map((t) => [t.id, t.role, t.name, t.workerId ?? '-', time(t.createdAt), time(t.revokedAt)]),
          ['ID', 'ROLE', 'NAME', 'WORKER ID', 'CREATED', 'REVOKED'],
        ),
      );
    },
  },
  'token revoke': {
    summary: 'revoke an API token by id',
    usage: 'taskwire token revoke <id> [--db <file>]',
    options: dbOption,
    args: { id: 'the id of the token to revoke (see `taskwire token list`)' },
    run: async ({ values, positionals }) => {
      const t = await withStore(values, (s) => s.revokeToken(positionals[0]!));
      console.log(`revoked token ${t.id} ("${t.name}"); it stops working within a second`);
    },
  },
};
