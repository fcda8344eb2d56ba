/** The outbox rows every family of operations writes: task events and log lines. */
import type { LogLevel, Task, TaskEventKind, TaskLog } from '../../types.js';
import { call, type Unit } from '../unit.js';

/** A task event, carrying the task's state after the change. */
export function taskEvent(kind: TaskEventKind, task: Task, at: number): Unit<void> {
  return call('appendEvent', { kind, at, taskId: task.id, status: task.status, queue: task.queue, type: task.type });
}

/** A log line on a task, announced by a LOG_ADDED row (subscribers read the line by id). */
export function* addLog(taskId: number, at: number, level: LogLevel, message: string, details: string | null = null): Unit<TaskLog> {
  const log = yield* call('insertLog', { taskId, at, level, message, details });
  yield* call('appendEvent', { kind: 'LOG_ADDED', at, taskId, logId: log.id });
  return log;
}
