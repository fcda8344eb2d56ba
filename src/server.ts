/** Starts the server from the environment and stops it gracefully on SIGTERM / SIGINT. */
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { TaskwireError } from './store/index.js';

export async function serve(env: Record<string, string | undefined> = process.env): Promise<void> {
  let app;
  let config;
  try {
    config = loadConfig(env);
    app = await buildApp(config);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof TaskwireError) {
      console.error(`taskwire: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const open = !(await app.store.hasTokens());
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(config.host) || config.host.startsWith('127.');
  if (open && !loopback && !config.allowOpen) {
    console.error(
      `taskwire: refusing to listen on ${config.host} with access control off (no token exists).\n` +
        '  Create one first:  npx taskwire token create --role admin --name ops\n' +
        '  or accept an open server on the network with TASKWIRE_ALLOW_OPEN=1.',
    );
    await app.stop();
    process.exit(2);
  }
  const { url } = await app.start();
  const log = app.logger;
  if (open) log.warn('access control is OFF: no token exists, so every caller is admin (create one with `taskwire token create`)');
  const { kind, location, schemaVersion } = app.store.info;
  log.info({ backend: kind, database: location, schemaVersion }, `serving ${location}`);
  log.info({ url }, `GraphQL${config.graphiql ? ' and GraphiQL' : ''} at ${url} (WebSocket subscriptions on the same path); dashboard at ${url.replace(/graphql$/, '')}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    app.stop().then(
      () => {
        log.info('stopped');
        log.flush();
        process.exit(0);
      },
      (e) => {
        log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
