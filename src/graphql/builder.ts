import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import SimpleObjectsPlugin from '@pothos/plugin-simple-objects';
import ValidationPlugin from '@pothos/plugin-validation';
import { TaskwireError } from '../store/index.js';
import type { Context } from './context.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  /** Roles nest: admin can do everything; viewer is any authenticated caller. */
  AuthScopes: { viewer: boolean; producer: boolean; worker: boolean; admin: boolean };
  DefaultFieldNullability: false;
  Scalars: {
    /** Milliseconds since the epoch inside; ISO-8601 UTC strings on the wire. */
    DateTime: { Input: number; Output: number };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin, DataloaderPlugin, ValidationPlugin, SimpleObjectsPlugin],
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: ({ principal }) => ({
      viewer: true,
      producer: principal.role === 'producer' || principal.role === 'admin',
      worker: principal.role === 'worker' || principal.role === 'admin',
      admin: principal.role === 'admin',
    }),
    unauthorizedError: (_parent, { principal }, info) =>
      new TaskwireError('FORBIDDEN', `the ${principal.role} role may not use ${info.parentType.name}.${info.fieldName}`),
  },
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesQueryOptions: false,
  },
  validation: {
    validationError: (result) =>
      new TaskwireError('VALIDATION', result.issues.map((i) => formatIssue(i)).join('; ')),
  },
});

function formatIssue(issue: { message: string; path?: readonly (PropertyKey | { key: PropertyKey })[] }): string {
  const path = (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}
