/**
 * One graphql-ws connection, and subscriptions that live across reconnects (the browser
 * client's and the dashboard's).
 *
 * graphql-ws retries a dropped connection by itself and would then resend each
 * subscription exactly as it was first sent. That is wrong for `taskEvents`, which must
 * resume from the last cursor it saw, so every subscription here is stopped when the
 * socket closes and started again, with its variables read afresh, once the connection is
 * back. Subscriptions start in the order they were created, on the same socket.
 */
import { createClient, type Client } from 'graphql-ws';
import { ApiError, type GqlResult } from './errors.js';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'refused' | 'offline';

export interface LiveHandlers<T> {
  /** `first` is true for the first result after each (re)start. */
  next(data: T, first: boolean): void;
  /** The server ended the subscription with an error; it is not restarted by itself. */
  error?(error: ApiError): void;
}

/** Waits 1, 2, 4, 8 then 10 seconds between attempts (plus jitter), forever. */
const retryWait = (retries: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** retries, 10_000) + Math.random() * 500));

export interface RealtimeOptions {
  /** The graphql-ws endpoint, ws(s)://host/graphql. */
  url: string;
  /** Sent as connectionParams `{ authorization: "Bearer <token>" }`; read at every (re)connect. */
  token?: string | null | (() => string | null | undefined);
  /** A WebSocket class where there is no global one (Node 20: the `ws` package). */
  webSocketImpl?: unknown;
  /** Each change of the connection's state; `reason` says why it was refused or went offline. */
  onState?: (state: ConnectionState, detail: { connections: number; reason?: string }) => void;
}

export class Realtime {
  readonly client: Client;
  private readonly subscriptions = new Set<LiveSubscription<any>>();
  private readonly connectedListeners: ((reconnect: boolean) => void)[] = [];
  private connectedNow = false;
  private connections = 0;
  /** Why the server last closed the socket on us, when it was the token (4401/4403). */
  private refusal: string | null = null;

  private readonly onState: NonNullable<RealtimeOptions['onState']>;

  constructor(options: RealtimeOptions) {
    this.onState = options.onState ?? (() => {});
    const token = options.token;
    this.client = createClient({
      url: options.url,
      webSocketImpl: options.webSocketImpl,
      lazy: false,
      retryAttempts: Infinity,
      retryWait,
      connectionParams: () => {
        const value = typeof token === 'function' ? token() : token;
        return value ? { authorization: `Bearer ${value}` } : {};
      },
      onNonLazyError: (e) => this.onState('offline', { connections: this.connections, reason: ApiError.from(e).message }),
      on: {
        connecting: () => {
          const state = this.refusal ? 'refused' : this.connections ? 'reconnecting' : 'connecting';
          this.onState(state, { connections: this.connections, reason: this.refusal ?? undefined });
        },
        connected: () => this.connected(),
        closed: (event) => this.closed(event),
      },
    });
  }

  get isConnected(): boolean {
    return this.connectedNow;
  }

  /** Called after every (re)connect, once the subscriptions have been started again. */
  onConnected(listener: (reconnect: boolean) => void): () => void {
    this.connectedListeners.push(listener);
    return () => {
      const i = this.connectedListeners.indexOf(listener);
      if (i >= 0) this.connectedListeners.splice(i, 1);
    };
  }

  /** One query or mutation over the socket: its data, or an ApiError. */
  request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let result: GqlResult<T> | undefined;
      this.client.subscribe<T>(
        { query, variables },
        {
          next: (r: GqlResult<T>) => (result = r),
          error: (e: unknown) => reject(ApiError.from(e)),
          complete: () => {
            if (result?.errors?.length) reject(ApiError.fromGraphQL(result.errors));
            else if (result?.data) resolve(result.data);
            else reject(new ApiError('NETWORK', 'the server answered without data'));
          },
        },
      );
    });
  }

  /** Closes the socket for good. */
  dispose(): Promise<void> {
    for (const sub of [...this.subscriptions]) sub.close();
    return Promise.resolve(this.client.dispose());
  }

  /** A subscription that runs whenever the connection is up; starts now if it is. */
  live<T>(query: string, variables: () => Record<string, unknown>, handlers: LiveHandlers<T>): LiveSubscription<T> {
    const sub = new LiveSubscription<T>(this, query, variables, handlers);
    this.subscriptions.add(sub);
    if (this.connectedNow) sub.start();
    return sub;
  }

  /** @internal */
  remove(sub: LiveSubscription<any>): void {
    this.subscriptions.delete(sub);
  }

  private connected(): void {
    this.connectedNow = true;
    this.refusal = null;
    const reconnect = this.connections++ > 0;
    this.onState('live', { connections: this.connections });
    for (const sub of this.subscriptions) sub.start();
    for (const listener of this.connectedListeners) listener(reconnect);
  }

  private closed(event: unknown): void {
    // Runs before graphql-ws decides to retry, so none of ours is resent as it was.
    const wasConnected = this.connectedNow;
    this.connectedNow = false;
    for (const sub of this.subscriptions) sub.stop();
    const code = (event as { code?: number } | null)?.code;
    if (code === 4401 || code === 4403) {
      this.refusal = `the server refused the token (${code})`;
      this.onState('refused', { connections: this.connections, reason: this.refusal });
    } else if (wasConnected) {
      this.onState('reconnecting', { connections: this.connections });
    }
  }
}

export class LiveSubscription<T> {
  private dispose: (() => void) | null = null;
  /** Bumped on every start and stop, so callbacks of an earlier run are ignored. */
  private generation = 0;

  constructor(
    private readonly realtime: Realtime,
    private readonly query: string,
    private readonly variables: () => Record<string, unknown>,
    private readonly handlers: LiveHandlers<T>,
  ) {}

  start(): void {
    this.stop();
    const generation = ++this.generation;
    const current = () => generation === this.generation;
    let first = true;
    this.dispose = this.realtime.client.subscribe<T>(
      { query: this.query, variables: this.variables() },
      {
        next: (result: GqlResult<T>) => {
          if (!current()) return;
          if (result.data) {
            if (result.errors?.length) console.warn('taskwire: partial result', result.errors);
            const wasFirst = first;
            first = false;
            this.handlers.next(result.data, wasFirst);
          } else if (result.errors?.length) {
            this.handlers.error?.(ApiError.fromGraphQL(result.errors));
          }
        },
        error: (error: unknown) => {
          if (!current()) return;
          this.dispose = null;
          this.handlers.error?.(ApiError.from(error));
        },
        complete: () => {
          if (current()) this.dispose = null;
        },
      },
    );
  }

  stop(): void {
    this.generation++;
    const dispose = this.dispose;
    this.dispose = null;
    dispose?.();
  }

  /** Starts again now if connected (otherwise the next connect does). */
  restart(): void {
    this.stop();
    if (this.realtime.isConnected) this.start();
  }

  close(): void {
    this.stop();
    this.realtime.remove(this);
  }
}
