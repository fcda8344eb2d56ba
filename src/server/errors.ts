/**
 * What a client sees of an error, and what the log sees. Expected errors (a TaskwireError
 * with one of the store's codes) keep their message and code; anything else is masked,
 * and its details are logged once, with the request id when it came out of an execution.
 */
import { GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from '../graphql/context.js';
import type { Logger } from '../observability/logger.js';
import { ERROR_CODES, TaskwireError } from '../store/index.js';

const EXPECTED_CODES = new Set<string>(ERROR_CODES);
const MASKED_CODES = new Set<string>([...ERROR_CODES, 'INTERNAL_SERVER_ERROR']);

/** The TaskwireError behind a GraphQL error, however deeply it was wrapped. */
function expectedError(error: unknown): TaskwireError | null {
  let e: unknown = error;
  for (let depth = 0; e && depth < 5; depth++) {
    if (e instanceof TaskwireError) return EXPECTED_CODES.has(e.code) ? e : null;
    e = (e as { originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return null;
}

/** Whether graphql-js made this error from the request itself: no foreign error behind it. */
function isRequestError(error: GraphQLError): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 5; depth++) {
    const next = (e as GraphQLError).originalError;
    if (!next) return e instanceof GraphQLError;
    if (!(next instanceof GraphQLError)) return false;
    e = next;
  }
  return false;
}

/**
 * Expected errors keep their message and code; anything else is masked (its details
 * are logged, never sent). Errors that graphql-js produced from the request itself
 * (syntax, unknown fields, variables of the wrong type) are the client's to see, as
 * VALIDATION.
 */
export function maskError(error: unknown, message: string): Error {
  const gqlError = error instanceof GraphQLError ? error : null;
  // Already masked (yoga masks context errors before we see them): keep it as it is.
  if (gqlError && !gqlError.originalError && MASKED_CODES.has(gqlError.extensions?.code as string)) return gqlError;
  const expected = expectedError(error);
  if (expected) {
    return new GraphQLError(expected.message, {
      nodes: gqlError?.nodes,
      path: gqlError?.path,
      extensions: {
        code: expected.code,
        ...(expected.details ?? {}),
        // yoga reads `http` for the status of requests it serves itself, and drops it from the body.
        ...(expected.code === 'UNAUTHENTICATED' ? { http: { status: 401 } } : {}),
      },
    });
  }
  if (gqlError && isRequestError(gqlError)) {
    // Only our code (and yoga's status hint): other extensions may carry parser internals.
    // yoga gives validation errors the hint "400 under application/graphql-response+json,
    // 200 under application/json" (spec: true) but leaves syntax errors without one, so
    // they answered 200 under both; GraphQL over HTTP asks for the same as validation.
    const syntax = !gqlError.path && gqlError.message.startsWith('Syntax Error:');
    const http = gqlError.extensions?.http ?? (syntax ? { status: 400, spec: true } : undefined);
    return new GraphQLError(gqlError.message, {
      nodes: gqlError.nodes,
      source: gqlError.source,
      positions: gqlError.positions,
      path: gqlError.path,
      extensions: { code: 'VALIDATION', ...(http ? { http } : {}) },
    });
  }
  // yoga's request parser throws a bare SyntaxError for unparseable JSON in a query
  // string or form body: the client's mistake, not ours.
  if (error instanceof SyntaxError || (gqlError?.originalError instanceof SyntaxError && !gqlError.path)) {
    return new GraphQLError('the request carries JSON that does not parse', {
      extensions: { code: 'VALIDATION', http: { status: 400 } },
    });
  }
  return new GraphQLError(message, { path: gqlError?.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

const isUnexpected = (masked: Error) => (masked as GraphQLError).extensions?.code === 'INTERNAL_SERVER_ERROR';

export interface ErrorReporting {
  /** yoga's maskError, and the WebSocket glue's: masks, and logs what was unexpected. */
  mask(error: unknown, message: string): GraphQLError;
  /** Logs the unexpected errors of an execution with its request id, before yoga masks them. */
  plugin: Plugin;
}

/**
 * Each unexpected error is logged once: the plugin logs those of an execution (it knows
 * the request id) and marks them, and `mask` logs only the ones nobody marked.
 */
export function errorReporting(logger: Logger): ErrorReporting {
  const reported = new WeakSet<object>();
  return {
    mask(error, message) {
      const masked = maskError(error, message);
      if (isUnexpected(masked) && !(typeof error === 'object' && error !== null && reported.has(error))) {
        logger.error({ err: error }, 'unexpected error');
      }
      return masked as GraphQLError;
    },
    plugin: {
      onExecute({ args }) {
        const reqId = (args.contextValue as Partial<Context>).reqId;
        return {
          onExecuteDone({ result }) {
            if (isAsyncIterable(result)) return;
            for (const error of result.errors ?? []) {
              if (!isUnexpected(maskError(error, ''))) continue;
              reported.add(error);
              logger.error({ err: error, reqId }, 'unexpected error');
            }
          },
        };
      },
    },
  };
}
