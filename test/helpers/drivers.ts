/**
 * Stores for the driver-neutral suites (test/engine/conformance, test/races): the driver
 * is chosen by TASKWIRE_TEST_DRIVER (default `sqlite`; a name no driver answers to fails
 * at import, so a typo never runs the suite on the wrong back end). Tests get a TaskStore,
 * the injected Clock, the published events and a Probe, and nothing of the driver itself.
 *
 * Adding a driver: one entry in DRIVERS that opens a store on a location and answers the
 * probe from its own storage.
 */
import { join } from 'node:path';
import type { EngineOptions } from '../../src/store/engine/engine.js';
import type { TaskStore } from '../../src/store/index.js';
import { PostgresTaskStore } from '../../src/store/postgres/store.js';
import { SqliteTaskStore } from '../../src/store/sqlite/store.js';
import { freshSchemaUrl, postgresProbe } from './postgres.js';
import { sqliteProbe } from './sqlite.js';
import { Clock, mulberry32, tempDir, track, type Probe, type TestStore } from './store.js';

export * from './store.js';

/** The engine's options a test may set (every driver runs the same engine), with the clock as a Clock. */
export type StoreOptions = Omit<EngineOptions, 'now'> & {
  clock?: Clock;
  /** Seed of the injected PRNG (default 12345); `random` replaces the PRNG outright. */
  seed?: number;
};

type Engine = EngineOptions & { now: () => number; random: () => number };

interface Driver {
  /**
   * A new, empty database. `shared`: several stores will open it, side by side or one
   * after another (reopening); otherwise one store uses it alone, as cheaply as the driver
   * can make one.
   */
  newDatabase(shared: boolean): Promise<string>;
  /** One more store on the database at `location`: its own connection and its own bus. */
  open(location: string, engine: Engine): Promise<{ store: TaskStore; probe: Probe }>;
}

const DRIVERS: Record<string, Driver> = {
  sqlite: {
    async newDatabase(shared) {
      return shared ? join(tempDir(), 'taskwire.db') : ':memory:';
    },
    async open(location, engine) {
      // No tailing timer: a test calls pollOutbox() when it wants other writers' rows.
      const store = new SqliteTaskStore({ ...engine, path: location, tailIntervalMs: 0 });
      return { store, probe: sqliteProbe(store) };
    },
  },
  postgres: {
    // A schema of its own per database, on the server TASKWIRE_TEST_PG_URL names.
    async newDatabase() {
      return freshSchemaUrl({ pool: '4' });
    },
    async open(location, engine) {
      // As with SQLite: no feed timer and no LISTEN; a test calls pollOutbox() for other stores' rows.
      const store = await PostgresTaskStore.open({ ...engine, url: location, feedPollMs: 0, listen: false });
      return { store, probe: postgresProbe(store) };
    },
  },
};

function pick(name: string): Driver {
  const driver = DRIVERS[name];
  if (!driver) {
    throw new Error(`TASKWIRE_TEST_DRIVER=${name}: no such driver; the drivers are ${Object.keys(DRIVERS).join(', ')}`);
  }
  return driver;
}

/** The driver these tests run on. */
export const DRIVER_NAME = process.env.TASKWIRE_TEST_DRIVER || 'sqlite';
const driver = pick(DRIVER_NAME);

async function openOn(location: string, options: StoreOptions): Promise<TestStore> {
  const { clock = new Clock(), seed, random, ...rest } = options;
  const { store, probe } = await driver.open(location, { ...rest, now: clock.now, random: random ?? mulberry32(seed ?? 12345) });
  return track(store, clock, probe);
}

/** A store on a database of its own, closed when the test finishes. */
export async function makeStore(options: StoreOptions = {}): Promise<TestStore> {
  return openOn(await driver.newDatabase(false), options);
}

export interface TestDatabase {
  /** Opens one more store on this database (own connection, own bus), closed when the test finishes if still open. */
  open(options?: StoreOptions): Promise<TestStore>;
}

/** An empty database that several stores open, at once (races) or one after another (restarts). */
export async function makeDatabase(): Promise<TestDatabase> {
  const location = await driver.newDatabase(true);
  return { open: (options = {}) => openOn(location, options) };
}
