import { sql as initial } from './001_initial.js';
import { sql as schedules } from './002_schedules.js';
import { sql as access } from './003_access.js';
import { sql as counts } from './004_counts.js';
import { sql as batchCounts } from './005_batch_counts.js';
import { sql as queuePauses } from './006_queue_pauses.js';
import { sql as metadata } from './007_metadata.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Numbered, append-only. Never edit a released migration: add the next one. */
export const migrations: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'schedules', sql: schedules },
  { version: 3, name: 'access', sql: access },
  { version: 4, name: 'counts', sql: counts },
  { version: 5, name: 'batch_counts', sql: batchCounts },
  { version: 6, name: 'queue_pauses', sql: queuePauses },
  { version: 7, name: 'metadata', sql: metadata },
];

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]!.version;
