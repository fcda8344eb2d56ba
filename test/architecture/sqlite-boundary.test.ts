/**
 * The SQLite boundary: outside src/store/sqlite/, no source file imports better-sqlite3
 * or anything inside src/store/sqlite/, except src/store/open.ts (the one door that picks
 * a driver). Everything else reaches a store through the TaskStore interface, so that a
 * second driver (PostgreSQL) can serve it unchanged.
 *
 * Every import form counts: static imports and re-exports (type-only too), side-effect
 * imports, dynamic import() and require().
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(ROOT, 'src');
const SQLITE_DIR = join(SRC, 'store', 'sqlite');
const ALLOWED = new Set([join(SRC, 'store', 'open.ts')]);
const SOURCE = /\.(ts|tsx|mts|cts)$/;

/** Every TypeScript file under `dir`. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.isFile() && SOURCE.test(entry.name) ? [path] : [];
  });
}

/** The module specifiers a file names, in order, comments left out. */
function specifiersOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const found: { at: number; spec: string }[] = [];
  const patterns = [
    // import x from '...', import type { X } from '...', export { x } from '...', export * from '...'
    /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g,
    // import '...'
    /\bimport\s*['"]([^'"]+)['"]/g,
    // import('...'), require('...'), import type X = require('...')
    /\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) found.push({ at: m.index, spec: m[1]! });
  return found.sort((x, y) => x.at - y.at).map((f) => f.spec);
}

const inside = (path: string, dir: string) => path === dir || path.startsWith(dir + sep);

/** `file:specifier` for each import of `file` that crosses the boundary. */
function crossings(file: string, text: string): string[] {
  if (inside(file, SQLITE_DIR) || ALLOWED.has(file)) return [];
  return specifiersOf(text)
    .filter((spec) => {
      if (spec === 'better-sqlite3' || spec.startsWith('better-sqlite3/')) return true;
      if (!spec.startsWith('.')) return false;
      return inside(resolve(dirname(file), spec), SQLITE_DIR);
    })
    .map((spec) => `${relative(ROOT, file)} imports '${spec}'`);
}

describe('the SQLite boundary', () => {
  it('no file outside src/store/sqlite/ but src/store/open.ts imports better-sqlite3 or the SQLite driver', () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(20);
    const offending = files.flatMap((file) => crossings(file, readFileSync(file, 'utf8')));
    expect(offending, `imports across the SQLite boundary:\n  ${offending.join('\n  ')}`).toEqual([]);
  });

  it('sees every import form, and allows the driver folder and the door', () => {
    const app = join(SRC, 'app.ts');
    const text = [
      `import Database from 'better-sqlite3';`,
      `import type { SqliteTaskStore } from './store/sqlite/store.js';`,
      `export { mapSqliteError } from "./store/sqlite/errors.js";`,
      `export * from './store/sqlite/migrations/index.js';`,
      `import './store/sqlite/checkpointer.js';`,
      `const m = await import('./store/sqlite/driver.js');`,
      `const d = require('better-sqlite3/lib/database');`,
      `import {`,
      `  openStore,`,
      `  type TaskStore,`,
      `} from './store/index.js';`,
      `// import x from 'better-sqlite3' in a comment does not count`,
      `/* nor import y from './store/sqlite/store.js' here */`,
      `import { sqliteHelpers } from './store/sqlite-helpers.js';`,
    ].join('\n');
    expect(crossings(app, text)).toEqual([
      `src/app.ts imports 'better-sqlite3'`,
      `src/app.ts imports './store/sqlite/store.js'`,
      `src/app.ts imports './store/sqlite/errors.js'`,
      `src/app.ts imports './store/sqlite/migrations/index.js'`,
      `src/app.ts imports './store/sqlite/checkpointer.js'`,
      `src/app.ts imports './store/sqlite/driver.js'`,
      `src/app.ts imports 'better-sqlite3/lib/database'`,
    ]);
    // A relative path that climbs into the driver folder from elsewhere counts too.
    expect(crossings(join(SRC, 'cli', 'commands', 'x.ts'), `import { a } from '../../store/sqlite/rows.js';`)).toEqual([
      `src/cli/commands/x.ts imports '../../store/sqlite/rows.js'`,
    ]);
    expect(crossings(join(SQLITE_DIR, 'driver.ts'), text)).toEqual([]);
    expect(crossings(join(SRC, 'store', 'open.ts'), text)).toEqual([]);
  });
});
