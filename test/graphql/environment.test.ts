/**
 * The test runner must load the same `graphql` module that the server's dependencies
 * load, or these tests exercise a server that does not exist in production.
 *
 * graphql 16 ships a CommonJS build (index.js, its "main") and an ESM build (index.mjs,
 * its "module"). Node (and tsx) resolve `import 'graphql'` to index.js for everyone. Vite,
 * which transforms src/ and test/ under vitest, prefers "module" and resolves it to
 * index.mjs, while graphql-yoga, graphql-ws and Pothos stay external and get index.js.
 * Two copies of GraphQLError then exist, `instanceof GraphQLError` fails across them, and
 * error handling behaves differently from production (graphql-ws, for one, closes the
 * socket with 4500 when onSubscribe returns errors of the "other" GraphQLError).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import * as graphql from 'graphql';
import { describe, expect, it } from 'vitest';

describe('test environment', () => {
  it('loads one graphql module, the one Node resolves for graphql-yoga and graphql-ws', async () => {
    const require = createRequire(import.meta.url);
    const nodeResolved = await import(/* @vite-ignore */ pathToFileURL(require.resolve('graphql')).href);
    expect(
      graphql.GraphQLError === nodeResolved.GraphQLError,
      'two copies of graphql are loaded: alias `graphql` to node_modules/graphql/index.js in vitest.config.ts ' +
        '(resolve.alias), so that vite resolves it as Node does',
    ).toBe(true);
  });
});
