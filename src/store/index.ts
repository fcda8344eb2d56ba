/**
 * The engine's public face. Everything outside src/store/ imports from here: the
 * TaskStore interface, its types and errors, and openStore(), which picks the back end.
 * No driver class is exported: the SQLite folder is reached only through open.ts.
 */
export * from './types.js';
export * from './errors.js';
export { DEFAULTS, LIMITS } from './engine/defaults.js';
export { isDatabaseUrl, openStore, type OpenStoreOptions } from './open.js';
