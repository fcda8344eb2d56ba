import { GraphQLError, Kind } from 'graphql';
import { builder } from '../builder.js';

const invalid = (message: string) => new GraphQLError(message, { extensions: { code: 'VALIDATION' } });

function parseDateTime(value: unknown): number {
  if (typeof value !== 'string') throw invalid('DateTime must be an ISO-8601 string');
  // Require a full date and an explicit zone, so that a time is never read in server-local time.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    throw invalid('DateTime must look like 2026-01-31T12:00:00Z');
  }
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw invalid(`DateTime ${value} is not a real time`);
  return ms;
}

builder.scalarType('DateTime', {
  description: 'An instant, as an ISO-8601 string in UTC (e.g. 2026-01-31T12:00:00.000Z).',
  serialize: (value) => new Date(value as number).toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw invalid('DateTime must be a string');
    return parseDateTime(ast.value);
  },
});

function literalToJson(ast: import('graphql').ValueNode, variables?: Record<string, unknown> | null): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map((v) => literalToJson(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalToJson(f.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
    default:
      throw invalid('JSON literal not understood');
  }
}

builder.scalarType('JSON', {
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => literalToJson(ast, variables),
});
