/** `taskwire serve`: the server, configured by the environment. */
import type { Commands } from '../command.js';

export const serveCommands: Commands = {
  serve: {
    summary: 'run the server (what `npm start` runs)',
    usage: 'taskwire serve',
    notes: 'Configured by the environment: PORT, HOST, TASKWIRE_DB, ... (see the README). Stops gracefully on SIGTERM or SIGINT.',
    // Imported on demand: the GraphQL stack costs a second of start-up the other commands do not need.
    run: async () => (await import('../../server.js')).serve(),
  },
};
