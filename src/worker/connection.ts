/**
 * One graphql-ws connection to a Taskwire server, with typed operations.
 *
 * Documents are the typed strings that `npm run codegen` generates, so results and
 * variables are typed end to end. The connection reconnects by itself with exponential
 * backoff and full jitter (graphql-ws `retryAttempts` / `shouldRetry` / `retryWait`), and
 * an operation that was in flight when the socket went away is sent again once it is
 * back: a caller sees either the server's answer or, only after `close()` or a close
 * code that retrying cannot fix, a `ConnectionError`.
 */
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
import { createClient, type Client, type ExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { ConnectionError, GraphQLRequestError, type GraphQLErrorShape } from './errors.js';

/** A generated typed document (codegen's `TypedDocumentString`), or any string-like one. */
export type TypedDocument<TResult, TVariables> = DocumentTypeDecoration<TResult, TVariables> & { toString(): string };

export interface ReconnectOptions {
  /** First retry delay; it doubles per failed attempt. Default 200 ms. */
  initialDelayMs?: number;
  /** Longest delay between attempts. Default 5000 ms. */
  maxDelayMs?: number;
  /** Give up after this many attempts in a row. Default Infinity. */
  attempts?: number;
}

export interface ConnectionOptions {
  /** The GraphQL endpoint: http(s)://host:port/graphql or ws(s)://... */
  url: string;
  /** Sent as `connectionParams.authorization = "Bearer <token>"`. */
  token?: string | undefined;
  reconnect?: ReconnectOptions;
  /** Ping the server this often (ms) and drop a connection that does not answer. 0 disables. Default 10000. */
  keepAliveMs?: number;
  /** How long to wait for the pong (and for the connection ack). Default 5000 ms. */
  timeoutMs?: number;
  /** Connect only when the first operation starts (and close when the last ends). Default false: connect now, stay connected. */
  lazy?: boolean;
  /** A WebSocket implementation; default the `ws` package. */
  webSocketImpl?: unknown;
  onConnected?: (wasRetry: boolean) => void;
  onClosed?: (code: number | undefined, reason: string | undefined) => void;
  /** Errors that are not tied to one operation (e.g. a fatal close of the non-lazy connection). */
  onError?: (error: Error) => void;
}

export interface Sink<T> {
  next: (data: T) => void;
  error?: (error: Error) => void;
  complete?: () => void;
}

export interface Connection {
  /** The underlying graphql-ws client. */
  readonly client: Client;
  /** True while a socket is open and acknowledged. */
  readonly connected: boolean;
  /**
   * Runs a query or mutation and resolves with its `data`. Rejects with a
   * `GraphQLRequestError` when the server answered with errors (`code` is the first
   * error's `extensions.code`), a `ConnectionError` when the connection gave up, or the
   * signal's reason when aborted.
   */
  request<TResult, TVariables>(
    document: TypedDocument<TResult, TVariables>,
    variables: TVariables,
    options?: { signal?: AbortSignal },
  ): Promise<TResult>;
  /** Runs a subscription; returns the function that ends it. */
  subscribe<TResult, TVariables>(document: TypedDocument<TResult, TVariables>, variables: TVariables, sink: Sink<TResult>): () => void;
  /** A subscription as an async iterator; `break` (or `return()`) ends it. */
  iterate<TResult, TVariables>(document: TypedDocument<TResult, TVariables>, variables: TVariables): AsyncIterableIterator<TResult>;
  /** Closes the socket and stops reconnecting. Pending operations reject with ConnectionError. */
  close(): Promise<void>;
}

/** http(s):// becomes ws(s)://; ws(s):// stays. */
export function toWebSocketUrl(url: string): string {
  const u = new URL(url);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new TypeError(`url must be http(s) or ws(s): ${url}`);
  return u.toString();
}

/** Exponential backoff with full jitter: a random delay in [0, min(max, initial * 2^n)], at least 10 ms. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.max(10, Math.round(Math.random() * ceiling));
}

function isCloseEvent(v: unknown): v is { code: number; reason: string } {
  return typeof v === 'object' && v !== null && 'code' in v && 'reason' in v;
}

/** What graphql-ws hands to `sink.error`, as an Error. */
export function toConnectionError(e: unknown, operationName?: string): Error {
  if (Array.isArray(e)) return new GraphQLRequestError(e as GraphQLErrorShape[], operationName);
  if (isCloseEvent(e)) {
    return new ConnectionError(`connection closed (${e.code}${e.reason ? `: ${e.reason}` : ''})`, e.code);
  }
  if (e instanceof Error) return e instanceof ConnectionError ? e : new ConnectionError(e.message, undefined, { cause: e });
  const message = (e as { message?: unknown } | null)?.message;
  return new ConnectionError(typeof message === 'string' && message ? message : 'connection error', undefined, { cause: e });
}

/** Operation names by query text: a worker sends a few documents many times each. */
const operationNames = new Map<string, string | undefined>();

function operationNameOf(query: string): string | undefined {
  if (operationNames.has(query)) return operationNames.get(query);
  const name = /\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(query)?.[1];
  if (operationNames.size < 256) operationNames.set(query, name);
  return name;
}

export function connect(options: ConnectionOptions): Connection {
  const initialDelayMs = options.reconnect?.initialDelayMs ?? 200;
  const maxDelayMs = options.reconnect?.maxDelayMs ?? 5000;
  const attempts = options.reconnect?.attempts ?? Infinity;
  const keepAliveMs = options.keepAliveMs ?? 10_000;
  const timeoutMs = options.timeoutMs ?? 5000;
  let connected = false;
  let closing = false;
  let pongTimer: NodeJS.Timeout | undefined;

  let operationId = 0;
  const client = createClient({
    url: toWebSocketUrl(options.url),
    // Unique on this connection is all the protocol asks; a counter costs less than a UUID per request.
    generateID: () => String(++operationId),
    webSocketImpl: options.webSocketImpl ?? WebSocket,
    lazy: options.lazy ?? false,
    connectionParams: options.token ? { authorization: `Bearer ${options.token}` } : undefined,
    keepAlive: keepAliveMs,
    connectionAckWaitTimeout: timeoutMs,
    retryAttempts: attempts,
    // Every failure to connect (refused, reset, closed while restarting) is worth another
    // try; graphql-ws itself still gives up on close codes that say the request is bad.
    shouldRetry: () => !closing,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, backoffDelay(retries, initialDelayMs, maxDelayMs))),
    onNonLazyError: (e) => {
      if (!closing) options.onError?.(toConnectionError(e));
    },
    on: {
      connected: (_socket, _payload, wasRetry) => {
        connected = true;
        options.onConnected?.(wasRetry);
      },
      closed: (event) => {
        clearTimeout(pongTimer);
        const was = connected;
        connected = false;
        if (was || !closing) {
          const e = isCloseEvent(event) ? event : undefined;
          options.onClosed?.(e?.code, e?.reason);
        }
      },
      // graphql-ws sends the pings; a server that does not answer in time is gone (a
      // half-open TCP connection): terminate, and the retry logic reconnects.
      ping: (received) => {
        if (received || keepAliveMs <= 0) return;
        clearTimeout(pongTimer);
        pongTimer = setTimeout(() => client.terminate(), timeoutMs);
        pongTimer.unref?.();
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
    },
  });

  const subscribe = <R, V>(document: TypedDocument<R, V>, variables: V, sink: Sink<R>): (() => void) => {
    const query = document.toString();
    const name = operationNameOf(query);
    return client.subscribe<R>(
      { query, variables: variables as Record<string, unknown> },
      {
        next: (result) => {
          if (result.errors?.length) sink.error?.(new GraphQLRequestError(result.errors as unknown as GraphQLErrorShape[], name));
          else sink.next(result.data as R);
        },
        error: (e) => sink.error?.(toConnectionError(e, name)),
        complete: () => sink.complete?.(),
      },
    );
  };

  const request = <R, V>(document: TypedDocument<R, V>, variables: V, opts: { signal?: AbortSignal } = {}): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const { signal } = opts;
      if (signal?.aborted) return reject(signal.reason);
      const query = document.toString();
      const name = operationNameOf(query);
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => {
        unsubscribe();
        finish(() => reject(signal!.reason));
      };
      const unsubscribe = client.subscribe<R>(
        { query, variables: variables as Record<string, unknown> },
        {
          // A query or mutation has one result: settle on it, and end the operation at
          // once. Waiting for the server's `complete` would leave a window in which a
          // dropped socket makes graphql-ws send the operation again after the reconnect,
          // running a mutation twice (a second claim, whose first answer was thrown away).
          // (Deferred to a microtask: a `complete` that arrived with the result has then
          // already ended the operation, and graphql-ws must not release it twice.)
          next: (value) => {
            const result = value as ExecutionResult<R>;
            finish(() => {
              if (result.errors?.length) reject(new GraphQLRequestError(result.errors as unknown as GraphQLErrorShape[], name));
              else resolve(result.data as R);
            });
            queueMicrotask(unsubscribe);
          },
          error: (e) => finish(() => reject(toConnectionError(e, name))),
          complete: () => finish(() => reject(new ConnectionError(`${name ?? 'operation'}: the connection closed before an answer`))),
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  const iterate = <R, V>(document: TypedDocument<R, V>, variables: V): AsyncIterableIterator<R> => {
    const queue: R[] = [];
    let failure: Error | null = null;
    let done = false;
    let wake: (() => void) | null = null;
    const poke = () => {
      wake?.();
      wake = null;
    };
    const stop = subscribe(document, variables, {
      next: (data) => {
        queue.push(data);
        poke();
      },
      error: (e) => {
        failure = e;
        done = true;
        poke();
      },
      complete: () => {
        done = true;
        poke();
      },
    });
    const iterator: AsyncIterableIterator<R> = {
      [Symbol.asyncIterator]: () => iterator,
      async next(): Promise<IteratorResult<R>> {
        for (;;) {
          if (queue.length > 0) return { value: queue.shift()!, done: false };
          if (failure) {
            const f = failure;
            failure = null;
            throw f;
          }
          if (done) return { value: undefined, done: true };
          await new Promise<void>((r) => (wake = r));
        }
      },
      async return(): Promise<IteratorResult<R>> {
        done = true;
        queue.length = 0;
        stop();
        poke();
        return { value: undefined, done: true };
      },
    };
    return iterator;
  };

  return {
    client,
    get connected() {
      return connected;
    },
    request,
    subscribe,
    iterate,
    async close() {
      if (closing) return;
      closing = true;
      clearTimeout(pongTimer);
      // dispose() waits for a connection attempt in progress; do not hang on a dead server.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.resolve().then(() => client.dispose()).catch(() => {}),
        new Promise<void>((r) => (timer = setTimeout(r, 2000))),
      ]);
      clearTimeout(timer);
      client.terminate();
    },
  };
}
