/**
 * GraphQL Code Generator: typed documents for the worker runner, the browser client and the client examples.
 *
 * `npm run codegen` reads schema/schema.graphql and the `graphql(`...`)` documents in
 * src/worker/, src/client/ and client-examples/, and writes one client-preset folder for
 * each, so neither library imports from the examples. test/worker/codegen.test.ts fails when
 * the committed output drifts.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const shared = {
  preset: 'client' as const,
  presetConfig: { fragmentMasking: false },
  config: {
    // String documents: graphql-ws takes the query text as is, and the type still
    // carries the result and variables.
    documentMode: 'string' as const,
    // NodeNext/ESM: relative imports need the extension.
    importExtension: '.js',
    useTypeImports: true,
    enumsAsTypes: true,
    scalars: {
      DateTime: 'string',
      JSON: 'unknown',
    },
  },
};

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  ignoreNoDocuments: false,
  generates: {
    'src/worker/gql/': {
      ...shared,
      documents: ['src/worker/**/*.ts', '!src/worker/gql/**'],
    },
    'src/client/gql/': {
      ...shared,
      documents: ['src/client/**/*.ts', '!src/client/gql/**'],
    },
    'client-examples/gql/': {
      ...shared,
      documents: ['client-examples/**/*.ts', '!client-examples/gql/**'],
    },
  },
};

export default config;
