/**
 * Bundles the dashboard in memory with esbuild: the TypeScript in client/ (with
 * graphql-ws from node_modules) into one minified ES module, the CSS, and the HTML.
 *
 * `npm run build:dashboard` writes the same files to dist/dashboard/public/ (or the folder
 * given): the installed package serves them from there, and they can be served elsewhere
 * too (the page talks to /graphql on the origin that serves it).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const CLIENT_DIR = fileURLToPath(new URL('./client/', import.meta.url));

export interface DashboardBundle {
  js: string;
  css: string;
  html: string;
}

export async function buildDashboard(): Promise<DashboardBundle> {
  const result = await build({
    entryPoints: [
      { in: join(CLIENT_DIR, 'main.ts'), out: 'dashboard' },
      { in: join(CLIENT_DIR, 'dashboard.css'), out: 'dashboard' },
    ],
    bundle: true,
    format: 'esm',
    minify: true,
    platform: 'browser',
    target: 'es2022',
    write: false,
    outdir: 'out',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const output = (ext: string) => {
    const file = result.outputFiles.find((f) => f.path.endsWith(ext));
    if (!file) throw new Error(`esbuild produced no ${ext} file`);
    return file.text;
  };
  return { js: output('.js'), css: output('.css'), html: await readFile(join(CLIENT_DIR, 'index.html'), 'utf8') };
}

/** Writes index.html, dashboard.js and dashboard.css to `dir`. */
export async function writeDashboard(dir: string): Promise<void> {
  const bundle = await buildDashboard();
  await mkdir(dir, { recursive: true });
  await Promise.all([
    writeFile(join(dir, 'index.html'), bundle.html),
    writeFile(join(dir, 'dashboard.js'), bundle.js),
    writeFile(join(dir, 'dashboard.css'), bundle.css),
  ]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dir = process.argv[2] ?? 'dist/dashboard/public';
  writeDashboard(dir).then(
    () => console.log(`dashboard written to ${dir}/`),
    (e: unknown) => {
      console.error(`dashboard build failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    },
  );
}
