import { DUPLICATE_POLICIES, TASK_EVENT_KINDS } from '../../store/index.js';
import { builder } from '../builder.js';

export const TaskStatusEnum = builder.enumType('TaskStatus', {
  values: {
    BLOCKED: { description: 'Waiting for the tasks it depends on.' },
    QUEUED: { description: 'Ready, or waiting for runAfter.' },
    RUNNING: { description: 'Claimed by a worker under a lease.' },
    SUCCEEDED: {},
    FAILED: { description: 'Terminal: attempts exhausted or not retryable (the dead-letter set).' },
    CANCELLED: {},
  } as const,
});

export const ClaimStrategyEnum = builder.enumType('ClaimStrategy', {
  values: ['FIFO', 'LIFO', 'PRIORITY', 'WEIGHTED_RANDOM'] as const,
});
export const LogLevelEnum = builder.enumType('LogLevel', { values: ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const });
export const WorkerStatusEnum = builder.enumType('WorkerStatus', { values: ['ACTIVE', 'STALE', 'STOPPED'] as const });
export const OrderDirection = builder.enumType('OrderDirection', { values: ['ASC', 'DESC'] as const });
export const TaskEventKindEnum = builder.enumType('TaskEventKind', { values: TASK_EVENT_KINDS });
export const DuplicatePolicyEnum = builder.enumType('DuplicatePolicy', { values: DUPLICATE_POLICIES });
