/**
 * Input checks shared by every store adapter: what is a valid task, claim, lease call.
 * Each returns a normalized value or throws a VALIDATION error that names the field.
 */
import { validation } from './errors.js';
import type { ClaimStrategy, JsonObject, LogLevel, TaskFilter } from './types.js';
import { LOG_LEVELS, TASK_STATUSES } from './types.js';

export { LIMITS } from './engine/defaults.js';
import { LIMITS } from './engine/defaults.js';

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function requireString(value: unknown, field: string, max = LIMITS.nameLength): string {
  if (typeof value !== 'string' || value.trim().length === 0) throw validation(`${field} must be a non-empty string`, field);
  if (value.length > max) throw validation(`${field} must be at most ${max} characters`, field);
  return value;
}

export function optionalString(value: unknown, field: string, max = LIMITS.keyLength): string | null {
  if (value === undefined || value === null) return null;
  return requireString(value, field, max);
}

export function optionalInt(value: unknown, field: string, min: number, max: number): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw validation(`${field} must be an integer`, field);
  if (value < min || value > max) throw validation(`${field} must be between ${min} and ${max}`, field);
  return value;
}

/** Serializes a JSON value and enforces the size cap; `undefined` stays undefined. */
export function toJson(value: unknown, field: string, maxBytes: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    throw validation(`${field} is not serializable as JSON`, field);
  }
  if (text === undefined) throw validation(`${field} is not a JSON value`, field);
  // A UTF-16 code unit is at most 3 bytes of UTF-8: most texts need no byte count at all.
  if (text.length * 3 > maxBytes && Buffer.byteLength(text) > maxBytes) {
    throw validation(`${field} is larger than ${maxBytes} bytes`, field);
  }
  return text;
}

export function jsonObject(value: unknown, field: string, maxBytes: number): string {
  if (!isPlainObject(value)) throw validation(`${field} must be a JSON object`, field);
  return toJson(value, field, maxBytes);
}

export function requireTaskId(value: unknown, field = 'taskId'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw validation(`${field} is not a valid task id`, field);
  }
  return value;
}

export function requireProgress(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw validation('progress must be a number from 0 to 1', 'progress');
  }
  return value;
}

export function requireLogLevel(value: unknown): LogLevel {
  if (!LOG_LEVELS.includes(value as LogLevel)) throw validation(`level must be one of ${LOG_LEVELS.join(', ')}`, 'level');
  return value as LogLevel;
}

export function requireStrategy(value: unknown): ClaimStrategy {
  if (value === undefined || value === null) return 'PRIORITY';
  if (value !== 'FIFO' && value !== 'LIFO' && value !== 'PRIORITY' && value !== 'WEIGHTED_RANDOM') {
    throw validation('strategy must be FIFO, LIFO, PRIORITY or WEIGHTED_RANDOM', 'strategy');
  }
  return value;
}

export function optionalStringList(value: unknown, field: string, maxItems = 100): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) throw validation(`${field} must be a list of strings`, field);
  if (value.length > maxItems) throw validation(`${field} may have at most ${maxItems} entries`, field);
  return [...new Set(value.map((v) => requireString(v, field)))];
}

/** What a worker can take: its region (exact match) and the formats it lists. */
export interface WorkerMatch {
  region: string | null;
  formats: string[] | null;
}

export function workerMatch(capabilities: unknown): WorkerMatch {
  if (capabilities === undefined || capabilities === null) return { region: null, formats: null };
  if (!isPlainObject(capabilities)) throw validation('capabilities must be a JSON object', 'capabilities');
  const region = capabilities.region;
  if (region !== undefined && region !== null && typeof region !== 'string') {
    throw validation('capabilities.region must be a string', 'capabilities.region');
  }
  const formats = optionalStringList(capabilities.formats, 'capabilities.formats');
  return { region: (region as string | undefined) ?? null, formats };
}

export function checkFilter(filter: TaskFilter | null | undefined): TaskFilter {
  const f = filter ?? {};
  for (const s of f.status ?? []) {
    if (!TASK_STATUSES.includes(s)) throw validation(`unknown status ${String(s)}`, 'filter.status');
  }
  for (const key of ['type', 'region', 'format'] as const) {
    const list = f[key];
    if (list && list.length > 100) throw validation(`filter.${key} may have at most 100 entries`, `filter.${key}`);
  }
  for (const key of ['createdAfter', 'createdBefore'] as const) {
    const v = f[key];
    if (v !== undefined && v !== null && !Number.isFinite(v)) throw validation(`filter.${key} is not a valid time`, `filter.${key}`);
  }
  return f;
}

export { backoffDelayMs } from './engine/rules/backoff.js';
