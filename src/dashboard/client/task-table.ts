/**
 * The task table: one page of `tasks(filter, first, after)` at a time, newest first, with
 * rows patched in place from task events. Only the page on screen is ever fetched, so it
 * stays quick however many tasks there are.
 *
 * While a page is loading, events are held back and applied on top of it once it is in,
 * so an event that raced the page read is not lost.
 */
import { request, type ApiConfig, type ApiError } from './api.js';
import {
  TASKS_QUERY,
  canCancel,
  canRetry,
  matchesFilter,
  type TaskEvent,
  type TaskFields,
  type TaskFilter,
  type TasksResult,
} from './documents.js';
import { formatAge, h, localId, taskNumber } from './dom.js';

export const PAGE_SIZE = 50;

export type TaskAction = 'cancel' | 'retry';

export interface TaskTableOptions {
  config: ApiConfig;
  body: HTMLTableSectionElement;
  empty: HTMLElement;
  prev: HTMLButtonElement;
  next: HTMLButtonElement;
  pageLabel: HTMLElement;
  table: HTMLTableElement;
  onSelect(task: TaskFields): void;
  onAction(action: TaskAction, task: TaskFields): void;
  onError(error: ApiError): void;
}

interface Row {
  task: TaskFields;
  /** The page cursor after this row; null for rows that arrived live. */
  cursor: string | null;
  tr: HTMLTableRowElement;
  cells: {
    status: HTMLSpanElement;
    bar: HTMLDivElement;
    progress: HTMLDivElement;
    percent: HTMLSpanElement;
    worker: HTMLTableCellElement;
    attempts: HTMLTableCellElement;
    age: HTMLTableCellElement;
    cancel: HTMLButtonElement;
    retry: HTMLButtonElement;
  };
}

export class TaskTable {
  private rows = new Map<number, Row>();
  private filter: TaskFilter = {};
  /** The `after` of every page up to the one shown: [null] is the first page. */
  private pages: (string | null)[] = [null];
  private hasNextPage = false;
  /** Events that arrived while a page was loading. */
  private held: TaskEvent[] | null = null;
  private loadSeq = 0;
  private selected: number | null = null;
  loaded = false;

  constructor(private readonly o: TaskTableOptions) {
    o.prev.addEventListener('click', () => this.previousPage());
    o.next.addEventListener('click', () => void this.nextPage());
  }

  get onFirstPage(): boolean {
    return this.pages.length === 1;
  }

  setFilter(filter: TaskFilter): void {
    this.filter = filter;
    this.pages = [null];
    void this.reload();
  }

  select(id: number | null): void {
    if (this.selected !== null) this.rows.get(this.selected)?.tr.classList.remove('selected');
    this.selected = id;
    if (id !== null) this.rows.get(id)?.tr.classList.add('selected');
  }

  /** Loads the page on screen again. */
  async reload(): Promise<void> {
    const seq = ++this.loadSeq;
    this.held ??= [];
    this.o.table.dataset.state = 'loading';
    try {
      const after = this.pages[this.pages.length - 1] ?? null;
      const data = await request<TasksResult>(this.o.config, TASKS_QUERY, { filter: this.filter, first: PAGE_SIZE, after });
      if (seq !== this.loadSeq) return; // a newer load started meanwhile
      this.render(data.tasks.edges, data.tasks.pageInfo.hasNextPage);
      const held = this.held ?? [];
      this.held = null;
      for (const event of held) this.applyEvent(event);
      this.loaded = true;
      this.o.table.dataset.state = 'ready';
    } catch (e) {
      if (seq !== this.loadSeq) return;
      // Keep the rows shown, brought up to date.
      const held = this.held ?? [];
      this.held = null;
      for (const event of held) this.applyEvent(event);
      this.o.table.dataset.state = 'error';
      this.o.onError(e as ApiError);
    }
  }

  /** A task event: patch its row, or add it when it belongs on the first page. */
  applyEvent(event: TaskEvent): void {
    if (this.held) this.held.push(event);
    else this.applyTask(event.task);
  }

  /** Fresh state of a task (from an event or a mutation's answer). */
  applyTask(task: TaskFields): void {
    const id = taskNumber(task.id);
    const row = this.rows.get(id);
    if (row) {
      if (Date.parse(task.updatedAt) < Date.parse(row.task.updatedAt)) return; // older than what is shown
      this.update(row, task);
    } else if (this.onFirstPage && matchesFilter(this.filter, task) && this.belongsOnPage(id)) {
      this.insert(task, null, true);
      if (this.rows.size > PAGE_SIZE) this.dropLast();
      this.updatePager();
    }
  }

  /** Ages move on by themselves. */
  refreshAges(now = Date.now()): void {
    for (const row of this.rows.values()) row.cells.age.textContent = formatAge(row.task.createdAt, now);
  }

  private belongsOnPage(id: number): boolean {
    if (this.rows.size < PAGE_SIZE && !this.hasNextPage) return true;
    const last = this.o.body.lastElementChild as HTMLTableRowElement | null;
    return !last || id > Number(last.dataset.taskId);
  }

  private render(edges: { cursor: string; node: TaskFields }[], hasNextPage: boolean): void {
    this.rows.clear();
    this.o.body.replaceChildren();
    for (const edge of edges) this.insert(edge.node, edge.cursor, false);
    this.hasNextPage = hasNextPage;
    this.updatePager();
  }

  private insert(task: TaskFields, cursor: string | null, live: boolean): void {
    const row = this.createRow(task, cursor);
    if (live) row.tr.classList.add('arrived');
    const id = taskNumber(task.id);
    // Newest first: before the first row with a smaller id.
    let before: Element | null = this.o.body.firstElementChild;
    while (before && Number((before as HTMLElement).dataset.taskId) > id) before = before.nextElementSibling;
    this.o.body.insertBefore(row.tr, before);
    this.rows.set(id, row);
  }

  private dropLast(): void {
    const last = this.o.body.lastElementChild as HTMLTableRowElement | null;
    if (!last) return;
    this.rows.delete(Number(last.dataset.taskId));
    last.remove();
    this.hasNextPage = true;
  }

  private previousPage(): void {
    if (this.onFirstPage) return;
    this.pages.pop();
    void this.reload();
  }

  private async nextPage(): Promise<void> {
    if (!this.hasNextPage) return;
    let last = this.lastRow();
    if (last && last.cursor === null) {
      // The bottom row arrived live and has no cursor: read the page again for one.
      await this.reload();
      last = this.lastRow();
    }
    if (!last?.cursor || !this.hasNextPage) return;
    this.pages.push(last.cursor);
    await this.reload();
  }

  private lastRow(): Row | undefined {
    const tr = this.o.body.lastElementChild as HTMLTableRowElement | null;
    return tr ? this.rows.get(Number(tr.dataset.taskId)) : undefined;
  }

  private updatePager(): void {
    const page = this.pages.length;
    const from = (page - 1) * PAGE_SIZE + 1;
    this.o.pageLabel.textContent = this.rows.size ? `Page ${page} · ${from}–${from + this.rows.size - 1}` : `Page ${page}`;
    this.o.prev.disabled = this.onFirstPage;
    this.o.next.disabled = !this.hasNextPage;
    this.o.empty.hidden = this.rows.size > 0;
  }

  private createRow(task: TaskFields, cursor: string | null): Row {
    const id = taskNumber(task.id);
    const bar = h('div', { class: 'bar' });
    const cells: Row['cells'] = {
      status: h('span', { class: 'badge', 'data-testid': `task-status-${id}` }),
      bar,
      progress: h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'data-testid': `task-progress-${id}` }, bar),
      percent: h('span', { class: 'percent' }),
      worker: h('td', { class: 'mono' }),
      attempts: h('td', { class: 'num' }),
      age: h('td', { class: 'num' }),
      cancel: h('button', { type: 'button', class: 'small', 'data-testid': `cancel-${id}` }, 'Cancel'),
      retry: h('button', { type: 'button', class: 'small', 'data-testid': `retry-${id}` }, 'Retry'),
    };
    const tr = h(
      'tr',
      { 'data-testid': `task-row-${id}`, 'data-task-id': id, tabindex: 0 },
      h('td', { class: 'num mono' }, `#${id}`),
      h('td', {}, cells.status),
      h('td', {}, h('div', { class: 'progress-cell' }, cells.progress, cells.percent)),
      h('td', {}, task.type),
      h('td', {}, task.queue),
      h('td', {}, task.region ?? '—'),
      h('td', {}, task.format ?? '—'),
      cells.worker,
      cells.attempts,
      cells.age,
      h('td', { class: 'actions' }, cells.cancel, cells.retry),
    );
    const row: Row = { task, cursor, tr, cells };
    tr.addEventListener('click', () => this.o.onSelect(row.task));
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && e.target === tr) this.o.onSelect(row.task);
    });
    const action = (kind: TaskAction) => (e: Event) => {
      e.stopPropagation(); // not a row click
      this.o.onAction(kind, row.task);
    };
    cells.cancel.addEventListener('click', action('cancel'));
    cells.retry.addEventListener('click', action('retry'));
    if (id === this.selected) tr.classList.add('selected');
    this.update(row, task);
    return row;
  }

  private update(row: Row, task: TaskFields): void {
    row.task = task;
    const { cells, tr } = row;
    tr.dataset.status = task.status;
    tr.classList.toggle('outside-filter', !matchesFilter(this.filter, task));
    cells.status.textContent = task.cancelRequested && task.status === 'RUNNING' ? 'RUNNING · cancelling' : task.status;
    cells.status.className = `badge status-${task.status.toLowerCase()}`;
    const fraction = task.status === 'SUCCEEDED' ? 1 : Math.min(1, Math.max(0, task.progress ?? 0));
    const percent = Math.round(fraction * 100);
    cells.bar.style.width = `${percent}%`;
    cells.progress.setAttribute('aria-valuenow', String(percent));
    cells.progress.dataset.status = task.status;
    cells.percent.textContent = task.progress === null && task.status !== 'SUCCEEDED' ? '' : `${percent}%`;
    cells.progress.title = task.progressMessage ?? '';
    cells.worker.textContent = task.lockedBy ? localId(task.lockedBy.id) : '—';
    cells.attempts.textContent = `${task.attempts}/${task.maxAttempts}`;
    cells.age.textContent = formatAge(task.createdAt);
    cells.age.title = task.createdAt;
    cells.cancel.disabled = !canCancel(task);
    cells.retry.disabled = !canRetry(task);
  }
}
