/**
 * The typed documents in src/worker/gql/, src/client/gql/ and client-examples/gql/ are generated from
 * schema/schema.graphql and the `graphql(...)` documents by `npm run codegen`. This test
 * generates them again in memory (GraphQL Code Generator's programmatic `generate`, same
 * codegen.ts) and fails when what is committed differs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { expect, test } from 'vitest';
import config from '../../codegen.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('the generated typed documents match schema and operations (else run `npm run codegen`)', { timeout: 60_000 }, async () => {
  const outputs: { filename: string; content: string }[] = await generate({ ...config, cwd: root, silent: true }, false);
  expect(outputs.length).toBeGreaterThan(0);

  const stale: string[] = [];
  const expected = new Set<string>();
  for (const out of outputs) {
    const path = isAbsolute(out.filename) ? out.filename : join(root, out.filename);
    const name = relative(root, path);
    expected.add(name);
    const committed = existsSync(path) ? readFileSync(path, 'utf8') : null;
    if (committed !== out.content) stale.push(committed === null ? `${name} (missing)` : name);
  }
  // Nothing left over in the output folders from operations that are gone.
  for (const folder of Object.keys(config.generates)) {
    const dir = join(root, folder);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir)) {
      const name = relative(root, join(dir, file));
      if (!expected.has(name)) stale.push(`${name} (no longer generated)`);
    }
  }
  expect(stale, `generated code is out of date: run \`npm run codegen\` (${stale.join(', ')})`).toEqual([]);
});
