/**
 * `taskwire/react`: React hooks over `taskwire/client` (React is a peer dependency).
 *
 *   <TaskwireProvider url="/graphql" token={token}>
 *     <Upload />
 *   </TaskwireProvider>
 *
 *   function Upload() {
 *     const { enqueue, data: enqueued } = useEnqueue();
 *     const { data: task } = useTask(enqueued?.task.id);
 *     const { data: logs } = useTaskLogs(enqueued?.task.id);
 *     ...
 *   }
 *
 * Components under one provider share its one connection; providers with the same url
 * and token share one too (counted: the last to unmount closes it). Each hook subscribes
 * while mounted and closes its subscription on unmount or when its arguments change.
 * Every hook returns `{ data, status, error }`.
 */
import { createContext, createElement, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { createClient, type ApiError, type ClientLog, type ClientTask, type EnqueueTaskInput, type TaskFilter, type TaskwireClient } from '../client/index.js';

export type { ApiError, ClientLog, ClientTask, EnqueueTaskInput, TaskFilter, TaskwireClient } from '../client/index.js';

/** loading: waiting for the first answer; live: following changes; error: see `error`. */
export type HookStatus = 'loading' | 'live' | 'error';

export interface HookResult<T> {
  data: T;
  status: HookStatus;
  error: ApiError | null;
}

const ClientContext = createContext<TaskwireClient | null>(null);

/** Open clients by url and token, with how many providers use each. */
const shared = new Map<string, { client: TaskwireClient; users: number }>();

function acquire(url: string, token: string | null, webSocketImpl: unknown): TaskwireClient {
  const key = `${url}\n${token ?? ''}`;
  let entry = shared.get(key);
  if (!entry) {
    entry = { client: createClient({ url, token, webSocketImpl }), users: 0 };
    shared.set(key, entry);
  }
  entry.users++;
  return entry.client;
}

function release(url: string, token: string | null): void {
  const key = `${url}\n${token ?? ''}`;
  const entry = shared.get(key);
  if (!entry || --entry.users > 0) return;
  shared.delete(key);
  void entry.client.close();
}

export interface TaskwireProviderProps {
  /** The GraphQL endpoint (http(s)://, ws(s):// or a path on the page's origin). */
  url?: string;
  token?: string | null;
  /** A client made elsewhere (then url and token are not used). */
  client?: TaskwireClient;
  webSocketImpl?: unknown;
  children?: ReactNode;
}

export function TaskwireProvider({ url = '/graphql', token = null, client, webSocketImpl, children }: TaskwireProviderProps) {
  const [own, setOwn] = useState<TaskwireClient | null>(null);
  useEffect(() => {
    if (client) return;
    setOwn(acquire(url, token, webSocketImpl));
    return () => {
      setOwn(null);
      release(url, token);
    };
  }, [client, url, token, webSocketImpl]);
  const value = client ?? own;
  // Children render once the connection exists, so every hook below has a client.
  return value ? createElement(ClientContext.Provider, { value }, children) : null;
}

/** The provider's client (for `request`, or anything the hooks do not cover). */
export function useTaskwireClient(): TaskwireClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('taskwire/react: wrap your components in <TaskwireProvider>');
  return client;
}

/** One live view while `key` is set; `open` subscribes and returns what closes it. */
function useLive<T>(empty: T, key: string | null | undefined, open: (client: TaskwireClient, set: (v: T) => void, fail: (e: ApiError) => void) => { close(): void }): HookResult<T> {
  const client = useTaskwireClient();
  const [state, setState] = useState<HookResult<T>>({ data: empty, status: 'loading', error: null });
  const openRef = useRef(open);
  openRef.current = open;
  useEffect(() => {
    setState({ data: empty, status: 'loading', error: null });
    if (key === null || key === undefined) return;
    const watch = openRef.current(
      client,
      (data) => setState({ data, status: 'live', error: null }),
      (error) => setState((s) => ({ ...s, status: 'error', error })),
    );
    return () => watch.close();
    // `empty` is a constant of each hook; the view changes with the client and the key only.
  }, [client, key]); // eslint-disable-line react-hooks/exhaustive-deps
  return state;
}

/** The task now, then after every change; `data` is null until it arrives (or with no id). */
export function useTask(id: string | null | undefined): HookResult<ClientTask | null> {
  return useLive<ClientTask | null>(null, id, (client, set, fail) => client.watchTask(id!, set, fail));
}

/** The tasks matching `filter`, newest first, kept live. */
export function useTasks(filter: TaskFilter | null = null, options: { first?: number } = {}): HookResult<ClientTask[]> {
  const key = JSON.stringify([filter, options.first ?? null]);
  return useLive<ClientTask[]>(EMPTY, key, (client, set, fail) => client.watchTasks(filter, (tasks) => set(tasks), { first: options.first, onError: fail }));
}

/** The task's log lines, in order, kept live. */
export function useTaskLogs(taskId: string | null | undefined): HookResult<ClientLog[]> {
  return useLive<ClientLog[]>(EMPTY, taskId, (client, set, fail) => client.watchLogs(taskId!, set, fail));
}

const EMPTY: never[] = [];

export interface EnqueueState {
  /** Enqueues; resolves with the answer (and sets `data`), rejects with an ApiError (and sets `error`). */
  enqueue(input: EnqueueTaskInput): Promise<{ created: boolean; task: ClientTask }>;
  data: { created: boolean; task: ClientTask } | null;
  status: 'idle' | 'pending' | 'done' | 'error';
  error: ApiError | null;
}

export function useEnqueue(): EnqueueState {
  const client = useTaskwireClient();
  const [state, setState] = useState<Omit<EnqueueState, 'enqueue'>>({ data: null, status: 'idle', error: null });
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const enqueue = useCallback(
    async (input: EnqueueTaskInput) => {
      setState((s) => ({ ...s, status: 'pending', error: null }));
      try {
        const data = await client.enqueue(input);
        if (mounted.current) setState({ data, status: 'done', error: null });
        return data;
      } catch (e) {
        if (mounted.current) setState((s) => ({ ...s, status: 'error', error: e as ApiError }));
        throw e;
      }
    },
    [client],
  );
  return { ...state, enqueue };
}
