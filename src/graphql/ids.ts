/**
 * Global IDs. Objects expose Relay global IDs (base64 of "Type:key"); arguments that
 * name a task also accept the bare numeric id, which is what logs, the CLI and people
 * use.
 */
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { TaskwireError } from '../store/index.js';

export function parseTaskId(value: unknown, field = 'id'): number {
  const text = String(value ?? '');
  if (/^\d{1,15}$/.test(text)) return Number(text);
  try {
    const { typename, id } = decodeGlobalID(text);
    if (typename === 'Task' && /^\d{1,15}$/.test(id)) return Number(id);
  } catch {
    // fall through
  }
  throw new TaskwireError('VALIDATION', `${field} is not a task id`, { field });
}

export function parseWorkerId(value: unknown): string {
  const text = String(value ?? '');
  try {
    const { typename, id } = decodeGlobalID(text);
    if (typename === 'Worker') return id;
  } catch {
    // a raw worker id
  }
  return text;
}

export function parseLogId(value: unknown): number {
  const text = String(value ?? '');
  if (/^\d{1,15}$/.test(text)) return Number(text);
  try {
    const { typename, id } = decodeGlobalID(text);
    if (typename === 'TaskLog' && /^\d{1,15}$/.test(id)) return Number(id);
  } catch {
    // fall through
  }
  throw new TaskwireError('VALIDATION', 'id is not a task log id', { field: 'id' });
}

export const taskGlobalId = (id: number) => encodeGlobalID('Task', id);
