import { sql as initial } from './001_initial.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Numbered, append-only. Never edit a released migration: add the next one. */
export const migrations: readonly Migration[] = [{ version: 1, name: 'initial', sql: initial }];

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]!.version;
