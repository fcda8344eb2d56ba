/**
 * The detail pane of one task: `taskUpdated(id)` keeps its fields current, its logs are
 * read page by page and new ones stream in through `taskLogAdded(taskId)`.
 *
 * The log subscription starts before the task's, on the same socket; the logs are read
 * when the task's first result arrives, so by then no new log can slip between the read
 * and the stream. The same happens again after every reconnect (duplicates are dropped).
 */
import { request, type ApiConfig, type ApiError } from './api.js';
import {
  TASK_LOGS_QUERY,
  TASK_LOG_ADDED_SUBSCRIPTION,
  TASK_UPDATED_SUBSCRIPTION,
  canCancel,
  canRetry,
  type TaskDetailFields,
  type TaskFields,
  type TaskLog,
  type TaskLogAddedResult,
  type TaskLogsResult,
  type TaskUpdatedResult,
} from './documents.js';
import { formatJson, formatTime, h, localId, taskNumber } from './dom.js';
import type { LiveSubscription, Realtime } from '../../client/live.js';
import type { TaskAction } from './task-table.js';

const LOG_PAGE = 200;

export interface TaskDetailOptions {
  config: ApiConfig;
  realtime: Realtime;
  root: HTMLElement;
  onAction(action: TaskAction, task: TaskFields): void;
  onError(error: ApiError): void;
  onClose(): void;
}

export class TaskDetail {
  private taskId: string | null = null;
  private task: TaskDetailFields | null = null;
  private subscriptions: LiveSubscription<unknown>[] = [];
  private logItems = new Map<number, HTMLLIElement>();
  /** Where the next page of logs starts, when there is one. */
  private logsAfter: string | null = null;
  private lastLoadedLog = 0;
  private readonly el = {
    title: h('h2'),
    status: h('span', { class: 'badge', 'data-testid': 'detail-status' }),
    bar: h('div', { class: 'bar' }),
    progress: h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'data-testid': 'detail-progress' }),
    progressText: h('span', { class: 'muted' }),
    cancel: h('button', { type: 'button', 'data-testid': 'detail-cancel' }, 'Cancel'),
    retry: h('button', { type: 'button', 'data-testid': 'detail-retry' }, 'Retry'),
    fields: h('dl', { class: 'fields', 'data-testid': 'detail-fields' }),
    payload: h('pre', { class: 'json', 'data-testid': 'detail-payload' }),
    result: h('pre', { class: 'json', 'data-testid': 'detail-result' }),
    errorBlock: h('section'),
    error: h('pre', { class: 'json error-text', 'data-testid': 'detail-error' }),
    logs: h('ol', { class: 'logs', 'data-testid': 'detail-logs' }),
    more: h('li', { class: 'more' }),
  };

  constructor(private readonly o: TaskDetailOptions) {
    const e = this.el;
    e.progress.append(e.bar);
    e.errorBlock.append(h('h3', {}, 'Error'), e.error);
    e.more.append(h('button', { type: 'button', class: 'small', onclick: () => void this.loadLogs(this.logsAfter) }, 'Load more logs'));
    e.cancel.addEventListener('click', () => this.task && o.onAction('cancel', this.task));
    e.retry.addEventListener('click', () => this.task && o.onAction('retry', this.task));
    o.root.replaceChildren(
      h('header', {}, e.title, h('button', { type: 'button', class: 'close', 'aria-label': 'Close', 'data-testid': 'detail-close', onclick: () => this.close() }, '×')),
      h('div', { class: 'detail-status' }, e.status, e.progress, e.progressText),
      h('div', { class: 'detail-actions' }, e.cancel, e.retry),
      e.fields,
      h('section', {}, h('h3', {}, 'Payload'), e.payload),
      h('section', {}, h('h3', {}, 'Result'), e.result),
      e.errorBlock,
      h('section', {}, h('h3', {}, 'Logs'), e.logs),
    );
    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && this.taskId) this.close();
    });
  }

  get openTaskId(): string | null {
    return this.taskId;
  }

  open(task: TaskFields): void {
    if (this.taskId === task.id) return;
    this.stop();
    this.taskId = task.id;
    this.task = null;
    this.logItems.clear();
    this.logsAfter = null;
    this.lastLoadedLog = 0;
    this.el.logs.replaceChildren();
    this.el.title.textContent = `Task #${taskNumber(task.id)} · ${task.type}`;
    this.o.root.dataset.taskId = String(taskNumber(task.id));
    this.o.root.hidden = false;

    const id = task.id;
    this.subscriptions = [
      this.o.realtime.live<TaskLogAddedResult>(TASK_LOG_ADDED_SUBSCRIPTION, () => ({ taskId: id }), {
        next: (data) => this.addLog(data.taskLogAdded),
        error: (err) => this.o.onError(err),
      }),
      this.o.realtime.live<TaskUpdatedResult>(TASK_UPDATED_SUBSCRIPTION, () => ({ id }), {
        next: (data, first) => {
          this.render(data.taskUpdated);
          if (first) void this.loadLogs(null);
        },
        error: (err) => this.o.onError(err),
      }),
    ];
  }

  close(): void {
    if (!this.taskId) return;
    this.stop();
    this.taskId = null;
    this.task = null;
    this.o.root.hidden = true;
    this.o.onClose();
  }

  private stop(): void {
    for (const sub of this.subscriptions) sub.close();
    this.subscriptions = [];
  }

  private render(task: TaskDetailFields): void {
    this.task = task;
    const e = this.el;
    e.status.textContent = task.cancelRequested && task.status === 'RUNNING' ? 'RUNNING · cancelling' : task.status;
    e.status.className = `badge status-${task.status.toLowerCase()}`;
    const percent = Math.round((task.status === 'SUCCEEDED' ? 1 : Math.min(1, Math.max(0, task.progress ?? 0))) * 100);
    e.bar.style.width = `${percent}%`;
    e.progress.setAttribute('aria-valuenow', String(percent));
    e.progress.dataset.status = task.status;
    e.progressText.textContent = `${percent}%${task.progressMessage ? ` · ${task.progressMessage}` : ''}`;
    e.cancel.disabled = !canCancel(task);
    e.retry.disabled = !canRetry(task);

    const fields: [string, string][] = [
      ['Queue', task.queue],
      ['Priority', String(task.priority)],
      ['Region', task.region ?? '—'],
      ['Format', task.format ?? '—'],
      ['Worker', task.lockedBy ? localId(task.lockedBy.id) : '—'],
      ['Attempts', `${task.attempts} of ${task.maxAttempts}`],
      ['Created', formatTime(task.createdAt)],
      ['Run after', formatTime(task.runAfter)],
      ['Started', formatTime(task.startedAt)],
      ['Finished', formatTime(task.finishedAt)],
      ['Lease until', formatTime(task.leaseUntil)],
      ['Timeout', task.timeoutSeconds === null ? '—' : `${task.timeoutSeconds}s`],
      ['Idempotency key', task.idempotencyKey ?? '—'],
      ['Correlation id', task.correlationId ?? '—'],
      ['Compatibility', JSON.stringify(task.compatibility)],
    ];
    e.fields.replaceChildren(...fields.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
    e.payload.textContent = formatJson(task.payload);
    e.result.textContent = formatJson(task.result);
    e.error.textContent = task.errorMessage ?? '';
    e.errorBlock.hidden = !task.errorMessage;
  }

  /** One page of logs from `after` (null: the first). */
  private async loadLogs(after: string | null): Promise<void> {
    const id = this.taskId;
    if (!id) return;
    try {
      const data = await request<TaskLogsResult>(this.o.config, TASK_LOGS_QUERY, { id, first: LOG_PAGE, after });
      if (this.taskId !== id || !data.task) return;
      const { edges, pageInfo } = data.task.logs;
      for (const { node } of edges) this.addLog(node);
      const lastId = edges.length ? Number(localId(edges[edges.length - 1]!.node.id)) : 0;
      this.lastLoadedLog = Math.max(this.lastLoadedLog, lastId);
      this.logsAfter = pageInfo.hasNextPage ? pageInfo.endCursor : null;
      this.placeMoreButton();
    } catch (e) {
      if (this.taskId === id) this.o.onError(e as ApiError);
    }
  }

  private addLog(log: TaskLog): void {
    const n = Number(localId(log.id));
    if (this.logItems.has(n)) return;
    const item = h(
      'li',
      { class: `log level-${log.level.toLowerCase()}`, 'data-testid': `log-${n}`, 'data-log-id': n },
      h('time', { datetime: log.at, title: log.at }, new Date(log.at).toLocaleTimeString()),
      h('span', { class: 'level' }, log.level),
      h('span', { class: 'message' }, log.message),
      log.details === null || log.details === undefined ? null : h('pre', { class: 'json' }, formatJson(log.details)),
    );
    // In id order; almost always at the end.
    let before = this.el.logs.lastElementChild as HTMLElement | null;
    while (before && (before === this.el.more || Number(before.dataset.logId) > n)) before = before.previousElementSibling as HTMLElement | null;
    this.el.logs.insertBefore(item, before ? before.nextSibling : this.el.logs.firstChild);
    this.logItems.set(n, item);
  }

  /** "Load more" goes right after the last log read page by page, before the live ones. */
  private placeMoreButton(): void {
    const more = this.el.more;
    if (!this.logsAfter) {
      more.remove();
      return;
    }
    const anchor = this.logItems.get(this.lastLoadedLog);
    this.el.logs.insertBefore(more, anchor ? anchor.nextSibling : this.el.logs.firstChild);
  }
}
