/**
 * Task metadata: MERGE follows JSON Merge Patch (RFC 7386): objects merge key by key,
 * recursively; a null removes its key; anything else (arrays, scalars) replaces. SET
 * replaces the whole object.
 */
import type { JsonObject } from '../../types.js';

export type MetadataMode = 'SET' | 'MERGE';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export function nextMetadata(current: JsonObject | null, patch: JsonObject, mode: MetadataMode): JsonObject {
  return mode === 'SET' ? patch : (mergePatch(current ?? {}, patch) as JsonObject);
}
