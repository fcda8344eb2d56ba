#!/usr/bin/env node
// The `taskwire` command. In a clone (src/ beside bin/) it runs the TypeScript through
// tsx's loader, so development needs no build step; the installed package has no src/
// and runs the compiled CLI in dist/.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli.ts', import.meta.url);

try {
  if (existsSync(source)) {
    const { register } = await import('tsx/esm/api');
    register();
    await import(source.href);
  } else {
    await import('../dist/cli.js');
  }
} catch (e) {
  // better-sqlite3 is an optional dependency, so that a worker-only install
  // (`npm install taskwire --omit=optional`) skips its native build; the commands need it.
  if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes("'better-sqlite3'")) {
    console.error(
      'taskwire: the server and the commands need better-sqlite3, which is not installed\n' +
        '(it is optional so that worker-only installs can skip it): npm install better-sqlite3',
    );
    process.exit(2);
  }
  throw e;
}
