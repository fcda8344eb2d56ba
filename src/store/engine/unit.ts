/**
 * Units: each engine operation, written once for every driver, as a generator that
 * yields the driver operations it needs and receives their results.
 *
 *   const task = yield* call('finishIfLeased', ref, result, now);
 *
 * Why generators rather than async functions: better-sqlite3 is synchronous and shares
 * one connection between reads and writes. An awaited unit would let other microtasks
 * run (and read its uncommitted rows) in the middle of its transaction, and would end
 * group commit. A generator is stepped synchronously by the SQLite driver, inside its
 * transaction, and awaited step by step by an asynchronous driver. The stepping costs
 * about a tenth of a microsecond per call, against tens of microseconds per statement.
 */
import type { OpName, Ops } from '../driver.js';

/** One yielded step: a driver operation call, or a nested unit in a savepoint. */
export type Step =
  | { readonly op: OpName; readonly args: readonly unknown[]; readonly nested?: undefined }
  | { readonly op?: undefined; readonly args?: undefined; readonly nested: Unit<unknown> };

export type Unit<T> = Generator<Step, T, unknown>;

/** Calls one driver operation. */
export function* call<K extends OpName>(op: K, ...args: Parameters<Ops[K]>): Unit<ReturnType<Ops[K]>> {
  return (yield { op, args }) as ReturnType<Ops[K]>;
}

/**
 * Runs `unit` in a savepoint: if it throws, its writes (and its events) are undone and
 * the error reaches the caller's unit, whose own writes stand.
 */
export function* savepoint<T>(unit: Unit<T>): Unit<T> {
  return (yield { nested: unit as Unit<unknown> }) as T;
}

/**
 * Steps a unit synchronously (SQLite). `nest` runs a nested unit in a savepoint. A
 * failed call is thrown into the unit, so that its try/catch sees it as it would an
 * exception of a direct call.
 */
export function runSync<T>(unit: Unit<T>, ops: Ops, nest: (unit: Unit<unknown>) => unknown): T {
  let r = unit.next();
  while (!r.done) {
    const step = r.value;
    let value: unknown;
    try {
      value = step.nested ? nest(step.nested) : (ops[step.op] as (...a: readonly unknown[]) => unknown)(...step.args);
    } catch (e) {
      r = unit.throw(e);
      continue;
    }
    r = unit.next(value);
  }
  return r.value;
}

/**
 * Steps a unit asynchronously (PostgreSQL): each driver call is awaited before the unit
 * resumes, so its statements run one after another on the unit's connection, inside its
 * transaction. `invoke` runs one operation; `nest` runs a nested unit in a savepoint.
 */
export async function runAsync<T>(
  unit: Unit<T>,
  invoke: (op: OpName, args: readonly unknown[]) => Promise<unknown>,
  nest: (unit: Unit<unknown>) => Promise<unknown>,
): Promise<T> {
  let r = unit.next();
  while (!r.done) {
    const step = r.value;
    let value: unknown;
    try {
      value = await (step.nested ? nest(step.nested) : invoke(step.op, step.args));
    } catch (e) {
      r = unit.throw(e);
      continue;
    }
    r = unit.next(value);
  }
  return r.value;
}
