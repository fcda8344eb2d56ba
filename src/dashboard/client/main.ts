/**
 * The dashboard's entry point: wires the table, the panels and the detail pane to one
 * graphql-ws connection (subscriptions) and to HTTP (queries and mutations).
 *
 * Live updates come from one `taskEvents` subscription. The page keeps the cursor of the
 * last event it saw; after a reconnect it subscribes again with `after: <that cursor>`,
 * and the server replays whatever happened in between, so nothing is missed.
 */
import { ApiError, readConfig, request } from './api.js';
import {
  CANCEL_TASK_MUTATION,
  QUEUE_STATS_SUBSCRIPTION,
  RETRY_TASK_MUTATION,
  TASK_EVENTS_SUBSCRIPTION,
  WORKER_UPDATED_SUBSCRIPTION,
  bulkMutation,
  type BulkAction,
  type BulkResult,
  type CancelTaskResult,
  type QueueStatsResult,
  type RetryTaskResult,
  type TaskEventsResult,
  type TaskFields,
  type TaskFilter,
  type TaskStatus,
  type WorkerUpdatedResult,
} from './documents.js';
import { byId, delay, h, parseList, taskNumber } from './dom.js';
import { PausesPanel, StatsPanel, WorkersPanel } from './panels.js';
import { Realtime, type ConnectionState } from '../../client/live.js';
import { TaskDetail } from './task-detail.js';
import { TaskTable, type TaskAction } from './task-table.js';

const config = readConfig();
const connection = byId('connection');
const toasts = byId('toasts');

const STATE_TEXT: Record<ConnectionState, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  refused: 'token refused',
  offline: 'offline',
};

function showConnection(state: ConnectionState, detail: { connections: number; reason?: string }): void {
  connection.dataset.state = state;
  connection.dataset.connections = String(detail.connections);
  connection.textContent = STATE_TEXT[state];
  connection.title = state === 'refused' ? `${detail.reason ?? 'the token was refused'}; open the page with ?token=…` : (detail.reason ?? '');
}

/** An error as a dismissable toast: its code and message; the page carries on. */
function showError(error: ApiError, context?: string): void {
  const toast = h(
    'div',
    { class: 'toast', role: 'alert', 'data-testid': 'error-toast', 'data-code': error.code },
    h('strong', {}, error.code),
    h('span', {}, context ? `${context}: ${error.message}` : error.message),
    h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss', onclick: () => toast.remove() }, '×'),
  );
  toasts.append(toast);
  setTimeout(() => toast.remove(), 15_000);
}

const realtime = new Realtime({ url: config.wsEndpoint, token: config.token, onState: showConnection });

const table = new TaskTable({
  config,
  table: byId<HTMLTableElement>('task-table'),
  body: byId<HTMLTableSectionElement>('task-rows'),
  empty: byId('empty'),
  prev: byId<HTMLButtonElement>('prev'),
  next: byId<HTMLButtonElement>('next'),
  pageLabel: byId('page-label'),
  onSelect: (task) => {
    table.select(taskNumber(task.id));
    detail.open(task);
  },
  onAction: (action, task) => void runAction(action, task),
  onError: (e) => showError(e, 'loading tasks'),
});

const detail = new TaskDetail({
  config,
  realtime,
  root: byId('detail'),
  onAction: (action, task) => void runAction(action, task),
  onError: (e) => showError(e, 'task detail'),
  onClose: () => table.select(null),
});

const stats = new StatsPanel(byId('stats'), byId<HTMLTableSectionElement>('by-type'), byId<HTMLDataListElement>('known-types'));
const workers = new WorkersPanel(
  config,
  byId('workers'),
  byId<HTMLDataListElement>('known-regions'),
  byId<HTMLDataListElement>('known-formats'),
  (e) => showError(e, 'loading workers'),
);

async function runAction(action: TaskAction, task: TaskFields): Promise<void> {
  try {
    const updated =
      action === 'cancel'
        ? (await request<CancelTaskResult>(config, CANCEL_TASK_MUTATION, { id: task.id })).cancelTask
        : (await request<RetryTaskResult>(config, RETRY_TASK_MUTATION, { id: task.id })).retryTask;
    table.applyTask(updated);
  } catch (e) {
    showError(ApiError.from(e), `${action} task #${taskNumber(task.id)}`);
  }
}

// --- live updates -------------------------------------------------------------------

/** The cursor of the last task event seen: where to resume after a reconnect. */
let lastCursor: string | null = null;

// Created first so that, on every (re)connect, it is the first subscription on the socket.
const taskEvents = realtime.live<TaskEventsResult>(TASK_EVENTS_SUBSCRIPTION, () => ({ after: lastCursor }), {
  next: ({ taskEvents: event }) => {
    lastCursor = event.cursor;
    connection.dataset.cursor = event.cursor;
    table.applyEvent(event);
  },
  error: (e) => {
    if (e.code === 'SLOW_CONSUMER') {
      // The server dropped us for falling behind; the outbox still has everything.
      taskEvents.restart();
      return;
    }
    showError(e, 'task events');
    if (e.code === 'VALIDATION') {
      // The cursor is not usable: start afresh from the current state.
      lastCursor = null;
      taskEvents.restart();
      void table.reload();
    }
  },
});

const pauses = new PausesPanel(config, byId('paused'), byId<HTMLFormElement>('pause-form'), (e, what) => showError(e, what));

realtime.live<QueueStatsResult>(QUEUE_STATS_SUBSCRIPTION, () => ({}), {
  next: (data) => {
    stats.render(data.queueStatsUpdated);
    void pauses.reload();
  },
  error: (e) => showError(e, 'queue stats'),
});

realtime.live<WorkerUpdatedResult>(WORKER_UPDATED_SUBSCRIPTION, () => ({}), {
  next: (data) => workers.upsert(data.workerUpdated),
  error: (e) => showError(e, 'workers'),
});

realtime.onConnected((reconnect) => {
  void workers.reload();
  // With a cursor, taskEvents replays everything since it: the table misses nothing.
  if (reconnect && lastCursor !== null) return;
  // Without one, (re)read the page once taskEvents is live. There is no way to ask for the
  // current cursor, so wait for the stats snapshot: that subscription was sent after
  // taskEvents on the same socket, so when it answers, taskEvents is listening.
  void Promise.race([stats.nextSnapshot(), delay(3000)]).then(() => table.reload());
});

// If the socket cannot connect at all, still show the tasks (without live updates).
void delay(4000).then(() => {
  if (!table.loaded) void table.reload();
});

// --- filters and the clock ----------------------------------------------------------

const filters = byId<HTMLFormElement>('filters');

function readFilter(): TaskFilter {
  const form = new FormData(filters);
  const status = String(form.get('status') ?? '');
  return {
    status: status ? (status.split(',') as TaskStatus[]) : undefined,
    type: parseList(String(form.get('type') ?? '')),
    region: parseList(String(form.get('region') ?? '')),
    format: parseList(String(form.get('format') ?? '')),
  };
}

let filterTimer: ReturnType<typeof setTimeout> | undefined;
let appliedFilter = JSON.stringify(readFilter());
function filterChanged(wait: number): void {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => {
    const filter = readFilter();
    const key = JSON.stringify(filter);
    if (key === appliedFilter) return;
    appliedFilter = key;
    table.setFilter(filter);
  }, wait);
}
filters.addEventListener('input', () => filterChanged(300));
filters.addEventListener('change', () => filterChanged(0));
filters.addEventListener('reset', () => setTimeout(() => filterChanged(0)));
filters.addEventListener('submit', (e) => {
  e.preventDefault();
  filterChanged(0);
});

// --- bulk actions on the current filter --------------------------------------------

const BULK_WORDS: Record<BulkAction, { verb: string; past: string; what: string }> = {
  cancel: { verb: 'Cancel', past: 'cancelled', what: 'queued, blocked and running' },
  retry: { verb: 'Retry', past: 'retried', what: 'failed and cancelled' },
  delete: { verb: 'Delete', past: 'deleted', what: 'finished' },
};

/** Runs the bounded calls one after another until nothing more matches; returns the count changed. */
async function runBulk(action: BulkAction, filter: TaskFilter): Promise<number> {
  let changed = 0;
  let after: string | null = null;
  for (;;) {
    const { result }: { result: BulkResult } = await request(config, bulkMutation(action), { filter, after });
    changed += result.changed;
    if (!result.hasMore) return changed;
    after = result.after;
  }
}

for (const button of filters.querySelectorAll<HTMLButtonElement>('[data-bulk]')) {
  button.addEventListener('click', () => {
    const action = button.dataset.bulk as BulkAction;
    const words = BULK_WORDS[action];
    const filter = readFilter();
    if (!confirm(`${words.verb} every ${words.what} task that matches the current filter?`)) return;
    button.disabled = true;
    void runBulk(action, filter)
      .then((n) => {
        connection.dataset.bulk = `${action}:${n}`;
        return table.reload();
      })
      .catch((e) => showError(ApiError.from(e), `${words.verb.toLowerCase()} all`))
      .finally(() => (button.disabled = false));
  });
}

setInterval(() => {
  table.refreshAges();
  workers.refreshAges();
}, 5000);
