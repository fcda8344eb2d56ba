/** The queue stats panel (from `queueStatsUpdated`) and the workers panel (`workers` + `workerUpdated`). */
import { request, type ApiConfig, type ApiError } from './api.js';
import {
  PAUSED_QUERY,
  PAUSE_MUTATION,
  RESUME_MUTATION,
  STATUSES,
  WORKERS_QUERY,
  type PausedResult,
  type QueuePause,
  type QueueStats,
  type Worker,
  type WorkersResult,
} from './documents.js';
import { formatAge, formatSeconds, h, localId } from './dom.js';

export class StatsPanel {
  private waiting: (() => void)[] = [];

  constructor(
    private readonly root: HTMLElement,
    private readonly byType: HTMLTableSectionElement,
    private readonly knownTypes: HTMLDataListElement,
  ) {}

  /** Resolves with the next snapshot. */
  nextSnapshot(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  render(stats: QueueStats): void {
    const counts = new Map(stats.counts.map((c) => [c.status, c.count]));
    const card = (label: string, value: string, testid: string, cls = '') =>
      h('div', { class: `card ${cls}`, 'data-testid': testid }, h('span', { class: 'value' }, value), h('span', { class: 'label' }, label));
    this.root.replaceChildren(
      ...STATUSES.map((s) => card(s.toLowerCase(), String(counts.get(s) ?? 0), `stat-${s}`, `status-${s.toLowerCase()}`)),
      card('active workers', String(stats.activeWorkers), 'stat-workers'),
      card('succeeded / min', String(stats.succeededLastMinute), 'stat-succeeded-minute'),
      card('failed / min', String(stats.failedLastMinute), 'stat-failed-minute'),
      card('oldest queued', stats.oldestQueuedAgeSeconds === null ? '—' : formatSeconds(stats.oldestQueuedAgeSeconds), 'stat-oldest'),
    );
    this.root.dataset.state = 'ready';
    this.byType.replaceChildren(
      ...stats.byType.map((t) =>
        h('tr', {}, h('td', {}, t.type), ...[t.queued, t.running, t.succeeded, t.failed].map((n) => h('td', { class: 'num' }, String(n)))),
      ),
    );
    this.knownTypes.replaceChildren(...stats.byType.map((t) => h('option', { value: t.type })));
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

/**
 * Paused queues and types, each with a Resume button, and a form that pauses one. Read
 * again after each action and whenever the stats change (a pause made elsewhere, e.g.
 * by `taskwire queue pause`, announces itself on the outbox, which the stats follow).
 */
export class PausesPanel {
  private reading: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly config: ApiConfig,
    private readonly list: HTMLElement,
    form: HTMLFormElement,
    private readonly onError: (error: ApiError, context: string) => void,
  ) {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const queue = String(data.get('queue') ?? '').trim();
      const type = String(data.get('type') ?? '').trim() || null;
      if (!queue) return;
      void this.act(PAUSE_MUTATION, { queue, type }, `pausing ${queue}`).then(() => form.reset());
    });
  }

  /** Reads the pauses (one read at a time; a call during one asks for one more after it). */
  reload(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        try {
          this.render((await request<PausedResult>(this.config, PAUSED_QUERY)).pausedQueues);
        } catch (e) {
          this.onError(e as ApiError, 'loading paused queues');
        }
      } while (this.again);
    })().finally(() => (this.reading = null));
    return this.reading;
  }

  private async act(mutation: string, input: { queue: string; type: string | null }, what: string): Promise<void> {
    try {
      await request(this.config, mutation, { input });
    } catch (e) {
      this.onError(e as ApiError, what);
    }
    await this.reload();
  }

  private render(pauses: QueuePause[]): void {
    const items = pauses.map((p) => {
      const name = p.type === null ? p.queue : `${p.queue} / ${p.type}`;
      return h(
        'li',
        { class: 'pause', 'data-testid': `paused-${p.queue}${p.type === null ? '' : `-${p.type}`}` },
        h('span', { class: 'mono name' }, name),
        h(
          'button',
          { type: 'button', class: 'small', onclick: () => void this.act(RESUME_MUTATION, { queue: p.queue, type: p.type }, `resuming ${name}`) },
          'Resume',
        ),
      );
    });
    if (!items.length) items.push(h('li', { class: 'muted' }, 'Nothing is paused.'));
    this.list.replaceChildren(...items);
    this.list.dataset.count = String(pauses.length);
  }
}

const STATUS_ORDER = { ACTIVE: 0, STALE: 1, STOPPED: 2 } as const;
const MAX_SHOWN = 100;

export class WorkersPanel {
  private workers = new Map<string, Worker>();
  /** Bumped by every update, so a list read before it does not undo it. */
  private version = 0;

  constructor(
    private readonly config: ApiConfig,
    private readonly list: HTMLElement,
    private readonly knownRegions: HTMLDataListElement,
    private readonly knownFormats: HTMLDataListElement,
    private readonly onError: (error: ApiError) => void,
  ) {}

  async reload(): Promise<void> {
    const version = this.version;
    try {
      const data = await request<WorkersResult>(this.config, WORKERS_QUERY);
      const fresh = new Map(data.workers.map((w) => [w.id, w]));
      // Updates that came in while the list was read are newer than it.
      if (this.version !== version) for (const [id, w] of this.workers) fresh.set(id, w);
      this.workers = fresh;
      this.render();
    } catch (e) {
      this.onError(e as ApiError);
    }
  }

  upsert(worker: Worker): void {
    this.version++;
    this.workers.set(worker.id, worker);
    this.render();
  }

  refreshAges(): void {
    this.render();
  }

  private render(): void {
    const now = Date.now();
    const workers = [...this.workers.values()].sort(
      (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || localId(a.id).localeCompare(localId(b.id)),
    );
    const items = workers.slice(0, MAX_SHOWN).map((w) => {
      const name = localId(w.id);
      const caps = w.capabilities;
      const summary = [typeof caps.region === 'string' ? caps.region : '', list(caps.formats), list(caps.types)].filter(Boolean).join(' · ');
      return h(
        'li',
        { class: `worker worker-${w.status.toLowerCase()}`, 'data-testid': `worker-${name}` },
        h('span', { class: 'mono name' }, name),
        h('span', { class: `badge worker-status-${w.status.toLowerCase()}` }, w.status),
        h('span', { class: 'muted caps' }, summary || 'any task'),
        h('span', { class: 'muted beat', title: `last heartbeat ${w.heartbeatAt}` }, `♥ ${formatAge(w.heartbeatAt, now)} ago`),
      );
    });
    if (workers.length > MAX_SHOWN) items.push(h('li', { class: 'muted' }, `and ${workers.length - MAX_SHOWN} more`));
    if (!items.length) items.push(h('li', { class: 'muted' }, 'No workers yet.'));
    this.list.replaceChildren(...items);

    const regions = new Set<string>();
    const formats = new Set<string>();
    for (const w of workers) {
      if (typeof w.capabilities.region === 'string') regions.add(w.capabilities.region);
      if (Array.isArray(w.capabilities.formats)) for (const f of w.capabilities.formats) formats.add(String(f));
    }
    this.knownRegions.replaceChildren(...[...regions].map((r) => h('option', { value: r })));
    this.knownFormats.replaceChildren(...[...formats].map((f) => h('option', { value: f })));
  }
}

function list(value: unknown): string {
  return Array.isArray(value) ? value.join(', ') : '';
}
