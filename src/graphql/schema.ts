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
import './types/queue-pause.js';
import './types/schedule.js';

// Every field is guarded. Reads and subscriptions: any authenticated caller. Mutations:
// admin only, unless a field says otherwise (skipTypeScopes), so a new mutation that
// forgets its scopes is closed, not open.
builder.queryType({ authScopes: { viewer: true } });
builder.mutationType({ authScopes: { admin: true } });
builder.subscriptionType({ authScopes: { viewer: true } });

export const schema = builder.toSchema({ sortSchema: false });
