/** Assembles the schema: each type file adds its type and its own fields. */
import { builder } from './builder.js';
import './types/scalars.js';
import './types/enums.js';
import './types/task.js';
import './types/task-log.js';
import './types/worker.js';
import './types/enqueue.js';
import './types/claimed-task.js';
import './types/task-event.js';
import './types/queue-stats.js';
import './types/concurrency-limit.js';
import './types/schedule.js';

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

export const schema = builder.toSchema({ sortSchema: false });
