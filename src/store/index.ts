/**
 * The engine's public face. Everything outside src/store/ imports from here: the
 * TaskStore interface, its types and errors, and the one adapter that exists today.
 */
export * from './types.js';
export * from './errors.js';
export { DEFAULTS, LIMITS } from './engine/defaults.js';
export { SqliteTaskStore, openSqliteStore, type SqliteStoreOptions } from './sqlite/store.js';
export { mapSqliteError } from './sqlite/errors.js';
export { LATEST_SCHEMA_VERSION } from './sqlite/migrations/index.js';
