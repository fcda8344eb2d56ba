/**
 * `npm run build` (and `prepack`): what the package ships, in dist/.
 *
 * - src/ compiled by tsc (tsconfig.build.json): JavaScript, .d.ts and source maps with
 *   the sources inlined, since src/ itself is not shipped;
 * - the dashboard bundled by esbuild into dist/dashboard/public/, which the server serves
 *   as is (esbuild is a development dependency: an installed package never bundles).
 *
 * A clone needs none of this: `npm start`, `npx taskwire` and the tests run src/ via tsx.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { writeDashboard } from '../src/dashboard/build.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/', import.meta.url));

rmSync(DIST, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
await writeDashboard(fileURLToPath(new URL('dashboard/public/', `file://${DIST}`)));
console.error('built dist/ (JavaScript, .d.ts, source maps, dashboard/public)');
