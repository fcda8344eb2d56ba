/**
 * `taskwire/client`: a framework-free client for frontends (browsers, and Node with a
 * WebSocket class): one graphql-ws connection, enqueue, and live views that resume after
 * a reconnect without a gap.
 *
 *   const tw = createClient({ url: '/graphql', token });
 *   const { task } = await tw.enqueue({ type: 'thumbnail', payload: { url } });
 *   const watch = tw.watchTask(task.id, (t) => render(t.status, t.progress));
 *   ...
 *   watch.close();
 *
 * - watchTask(id): the task now, then after every change (`taskUpdated`); after a
 *   reconnect the server sends the task as it is then, so no state is missed.
 * - watchTasks(filter): a snapshot and the event cursor it is valid at, read in one
 *   request, then `taskEvents(after: cursor)`; after a reconnect it subscribes again from
 *   the last cursor it saw and the server replays what happened in between.
 * - watchLogs(taskId): the log so far, then each new line; after a reconnect the lines
 *   written meanwhile are read from the last one seen.
 * A mutation cut off by a dropped connection is sent again on the next one (graphql-ws
 * does so): give enqueues an idempotencyKey to make that repeat harmless.
 */
import { ApiError } from './errors.js';
import {
  EnqueueMutation,
  LogAddedSubscription,
  LogsQuery,
  TaskEventsSubscription,
  TaskQuery,
  TaskUpdatedSubscription,
  TasksSnapshotQuery,
} from './documents.js';
import type {
  ClientLogFieldsFragment,
  ClientTaskFieldsFragment as ClientTask,
  ClientTaskEventsSubscription,
  ClientTaskLogAddedSubscription,
  ClientTaskUpdatedSubscription,
  EnqueueTaskInput,
  TaskFilter,
} from './gql/graphql.js';
import { Realtime, type ConnectionState, type LiveSubscription, type RealtimeOptions } from './live.js';

export { ApiError } from './errors.js';
export type { ConnectionState } from './live.js';
export type { ClientTaskFieldsFragment as ClientTask, ClientLogFieldsFragment as ClientLog, EnqueueTaskInput, TaskFilter } from './gql/graphql.js';

export type ClientTaskEvent = ClientTaskEventsSubscription['taskEvents'];

export interface ClientOptions {
  /** The GraphQL endpoint: http(s)://, ws(s):// or a path ('/graphql') on the page's origin. */
  url: string;
  /** A token, or a function read at every (re)connect (a short-lived token can be renewed). */
  token?: RealtimeOptions['token'];
  /** A WebSocket class where there is no global one (Node 20: the `ws` package). */
  webSocketImpl?: unknown;
  /** Each change of the connection: connecting, live, reconnecting, refused, offline. */
  onState?: (state: ConnectionState, detail: { connections: number; reason?: string }) => void;
}

/** A live view; close() ends it. */
export interface Watch {
  close(): void;
}

export interface TaskwireClient {
  /** Any query or mutation, over the same socket. */
  request<T>(query: string | { toString(): string }, variables?: Record<string, unknown>): Promise<T>;
  enqueue(input: EnqueueTaskInput): Promise<{ created: boolean; task: ClientTask }>;
  getTask(id: string): Promise<ClientTask | null>;
  watchTask(id: string, onTask: (task: ClientTask) => void, onError?: (error: ApiError) => void): Watch;
  /**
   * The tasks matching `filter` (newest first; at most `first`, default 50, in the
   * snapshot; tasks that appear later are added), after every change, with the event
   * that changed them (null for the snapshot).
   */
  watchTasks(
    filter: TaskFilter | null,
    onChange: (tasks: ClientTask[], event: ClientTaskEvent | null) => void,
    options?: { first?: number; onError?: (error: ApiError) => void },
  ): Watch;
  watchLogs(taskId: string, onLogs: (logs: ClientLogFieldsFragment[]) => void, onError?: (error: ApiError) => void): Watch;
  /** Ends every watch and closes the socket. */
  close(): Promise<void>;
}

/** ws(s):// for a given http(s):// URL or a path on the page's origin. */
function socketUrl(url: string): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  const absolute = new URL(url, base);
  absolute.protocol = absolute.protocol.replace(/^http/, 'ws');
  return absolute.href;
}

export function createClient(options: ClientOptions): TaskwireClient {
  const realtime = new Realtime({ url: socketUrl(options.url), token: options.token, webSocketImpl: options.webSocketImpl, onState: options.onState });
  const request = <T>(query: string | { toString(): string }, variables?: Record<string, unknown>) => realtime.request<T>(String(query), variables);
  const report = (onError?: (error: ApiError) => void) => (e: unknown) => onError?.(ApiError.from(e));

  return {
    request,

    async enqueue(input) {
      const data = await request<{ enqueueTask: { created: boolean; task: ClientTask } }>(EnqueueMutation, { input });
      return data.enqueueTask;
    },

    async getTask(id) {
      return (await request<{ task: ClientTask | null }>(TaskQuery, { id })).task;
    },

    watchTask(id, onTask, onError) {
      const sub = realtime.live<ClientTaskUpdatedSubscription>(String(TaskUpdatedSubscription), () => ({ id }), {
        next: (data) => onTask(data.taskUpdated),
        error: onError,
      });
      return { close: () => sub.close() };
    },

    watchTasks(filter, onChange, opts = {}) {
      const tasks = new Map<string, ClientTask>();
      let cursor: string | null = null;
      let sub: LiveSubscription<ClientTaskEventsSubscription> | null = null;
      let closed = false;
      // The server matches events on the task's status now, so a task leaving the filtered
      // statuses would never be seen to go: events come for every status, and the view
      // keeps those in the filtered ones.
      const statuses = filter?.status ?? null;
      const { status: _status, ...eventFilter } = filter ?? {};
      const emit = (event: ClientTaskEvent | null) => onChange([...tasks.values()], event);
      const apply = (event: ClientTaskEvent) => {
        cursor = event.cursor;
        const task = event.task;
        // A task that left the filtered statuses leaves the view.
        if (statuses && !statuses.includes(task.status)) {
          if (!tasks.delete(task.id)) return; // not in view, not coming in: nothing to say
        } else if (tasks.has(task.id)) tasks.set(task.id, task);
        else {
          const rest = [...tasks];
          tasks.clear();
          tasks.set(task.id, task);
          for (const [k, v] of rest) tasks.set(k, v);
        }
        emit(event);
      };
      request<{ lastEventCursor: string; tasks: { edges: { node: ClientTask }[] } }>(TasksSnapshotQuery, { filter, first: opts.first ?? 50 }).then(
        (snapshot) => {
          if (closed) return;
          for (const { node } of snapshot.tasks.edges) tasks.set(node.id, node);
          cursor = snapshot.lastEventCursor;
          emit(null);
          sub = realtime.live<ClientTaskEventsSubscription>(String(TaskEventsSubscription), () => ({ filter: eventFilter, after: cursor }), {
            next: (data) => apply(data.taskEvents),
            error: opts.onError,
          });
        },
        report(opts.onError),
      );
      return {
        close: () => {
          closed = true;
          sub?.close();
        },
      };
    },

    watchLogs(taskId, onLogs, onError) {
      const logs: ClientLogFieldsFragment[] = [];
      const seen = new Set<string>();
      let after: string | null = null;
      let closed = false;
      const add = (line: ClientLogFieldsFragment) => {
        if (seen.has(line.id)) return false;
        seen.add(line.id);
        logs.push(line);
        return true;
      };
      /** Reads the lines after the last one read, page by page. */
      const catchUp = async () => {
        let added = false;
        for (;;) {
          type Page = { task: { logs: { edges: { cursor: string; node: ClientLogFieldsFragment }[]; pageInfo: { hasNextPage: boolean } } } | null };
          const page = await request<Page>(LogsQuery, { id: taskId, after });
          if (closed || !page.task) break;
          for (const edge of page.task.logs.edges) {
            after = edge.cursor;
            added = add(edge.node) || added;
          }
          if (!page.task.logs.pageInfo.hasNextPage) break;
        }
        if (added && !closed) onLogs([...logs]);
      };
      // Live first, then the lines so far: a line written in between arrives both ways and is kept once.
      const sub = realtime.live<ClientTaskLogAddedSubscription>(String(LogAddedSubscription), () => ({ taskId }), {
        next: (data) => {
          if (add(data.taskLogAdded)) onLogs([...logs]);
        },
        error: onError,
      });
      void catchUp().catch(report(onError));
      // After a reconnect: the lines written while the socket was down.
      const off = realtime.onConnected((reconnect) => {
        if (reconnect) void catchUp().catch(report(onError));
      });
      return {
        close: () => {
          closed = true;
          off();
          sub.close();
        },
      };
    },

    close: () => realtime.dispose(),
  };
}
