/**
 * Serves the dashboard next to the API: `/` is the page, `/dashboard.js` and
 * `/dashboard.css` its assets. The installed package serves the files `npm run build`
 * bundled into `public/` beside this module; a clone (no `public/` beside `src/`) bundles
 * the sources with esbuild on the first request, so neither `npm start` nor the tests need
 * a build step. Either way the bundle is read once and kept in memory.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DashboardBundle } from './build.js';

const ROUTES: Record<string, { part: keyof DashboardBundle; type: string }> = {
  '/': { part: 'html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { part: 'js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { part: 'css', type: 'text/css; charset=utf-8' },
};

/** Scripts, styles and connections (HTTP and WebSocket) to this origin only. */
const CSP = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

type Served = Record<keyof DashboardBundle, { body: Buffer; etag: string }>;

let bundle: Promise<Served> | null = null;

/** Where `npm run build` puts the bundled page, relative to this module in dist/. */
const PREBUILT_DIR = new URL('./public/', import.meta.url);

async function prebuiltOrBuilt(): Promise<DashboardBundle> {
  const read = (name: string) => readFile(new URL(name, PREBUILT_DIR), 'utf8');
  try {
    const [html, js, css] = await Promise.all([read('index.html'), read('dashboard.js'), read('dashboard.css')]);
    return { html, js, css };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  // esbuild is a development dependency: only a clone gets here.
  const { buildDashboard } = await import('./build.js');
  return buildDashboard();
}

function load(): Promise<Served> {
  bundle ??= prebuiltOrBuilt().then((b) => {
    const entry = (text: string) => {
      const body = Buffer.from(text);
      return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
    };
    return { html: entry(b.html), js: entry(b.js), css: entry(b.css) };
  });
  // A failed build is tried again on the next request.
  bundle.catch(() => (bundle = null));
  return bundle;
}

/** Handles the request if it is for the dashboard; returns whether it did. */
export function serveDashboard(req: IncomingMessage, res: ServerResponse): boolean {
  const route = ROUTES[req.url?.split('?')[0] ?? ''];
  if (!route || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  load().then(
    (served) => {
      const { body, etag } = served[route.part];
      const headers: Record<string, string | number> = {
        'content-type': route.type,
        'cache-control': 'no-cache',
        etag,
        'x-content-type-options': 'nosniff',
      };
      if (route.part === 'html') headers['content-security-policy'] = CSP;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers).end();
        return;
      }
      res.writeHead(200, { ...headers, 'content-length': body.length }).end(req.method === 'HEAD' ? undefined : body);
    },
    (e: unknown) => {
      if (res.headersSent) return;
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`the dashboard could not be built: ${e instanceof Error ? e.message : String(e)}\n`);
    },
  );
  return true;
}
