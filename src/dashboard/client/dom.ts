/** Small DOM and formatting helpers. Text always goes in through text nodes, never as HTML. */

type AttrValue = string | number | boolean | null | undefined;
type Attrs = Record<string, AttrValue | ((event: Event) => void)>;
type Child = Node | string | null | undefined | false;

/** `h('td', { class: 'x', 'data-testid': 'y', onclick: fn }, 'text', otherNode)` */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (name === 'class') el.className = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

/**
 * The key inside a Relay global ID ("Task:12" in base64 gives "12"); anything that is not
 * one comes back unchanged.
 */
export function localId(globalId: string): string {
  try {
    const bytes = Uint8Array.from(atob(globalId), (c) => c.charCodeAt(0));
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    const colon = text.indexOf(':');
    if (colon > 0 && /^[A-Za-z_]\w*$/.test(text.slice(0, colon))) return text.slice(colon + 1);
  } catch {
    // not base64: a raw id
  }
  return globalId;
}

/** A task's number, for display, ordering and test ids. */
export function taskNumber(globalId: string): number {
  return Number(localId(globalId));
}

/** "4s", "12m", "3h", "2d". */
export function formatAge(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return formatSeconds(seconds);
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export function formatTime(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

export function formatJson(value: unknown): string {
  return value === null || value === undefined ? '—' : JSON.stringify(value, null, 2);
}

/** Comma-separated input to a list; empty gives undefined. */
export function parseList(text: string): string[] | undefined {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items.length ? items : undefined;
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
