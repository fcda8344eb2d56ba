/** The engine on the PostgreSQL driver: what openStore() returns for a postgres:// URL. */
import { Engine, type EngineOptions } from '../engine/engine.js';
import { PostgresDriver, type PostgresDriverOptions } from './driver.js';

export type PostgresStoreOptions = PostgresDriverOptions & EngineOptions;

export class PostgresTaskStore extends Engine {
  /** The driver: for PostgreSQL-only tests and benchmarks (its pool, its feed), never for the engine. */
  readonly pg: PostgresDriver;

  private constructor(driver: PostgresDriver, options: EngineOptions) {
    super(driver, options);
    this.pg = driver;
  }

  static async open(options: PostgresStoreOptions): Promise<PostgresTaskStore> {
    return new PostgresTaskStore(await PostgresDriver.open(options), options);
  }
}
