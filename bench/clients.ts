/**
 * Load-generator clients for the GraphQL benchmark: a node:http keep-alive client (not
 * `fetch`, which costs the client more CPU per request than the server spends on it) and
 * a graphql-ws client over the `ws` package. Both throw on a response that carries errors.
 */
import http from 'node:http';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export type Variables = Record<string, unknown>;

export class GraphQLResponseError extends Error {
  constructor(
    message: string,
    readonly code: unknown,
  ) {
    super(message);
  }
}

function check<T>(body: { data?: T; errors?: { message: string; extensions?: { code?: unknown } }[] }): T {
  if (body.errors?.length) {
    const e = body.errors[0]!;
    throw new GraphQLResponseError(`${e.message} (${String(e.extensions?.code)})`, e.extensions?.code);
  }
  return body.data as T;
}

export interface GqlClient {
  request<T = Record<string, unknown>>(query: string, variables?: Variables): Promise<T>;
  close(): Promise<void>;
}

/** POST /graphql over node:http with a keep-alive agent of `maxSockets` sockets. */
export function httpClient(url: string, maxSockets: number): GqlClient {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  const base = { host: u.hostname, port: Number(u.port), path: u.pathname, method: 'POST', agent };
  return {
    request<T>(query: string, variables?: Variables): Promise<T> {
      const body = JSON.stringify({ query, variables });
      return new Promise<T>((resolve, reject) => {
        const req = http.request(
          { ...base, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
              try {
                resolve(check<T>(JSON.parse(text)));
              } catch (e) {
                reject(e instanceof GraphQLResponseError ? e : new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
              }
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    },
    async close() {
      agent.destroy();
    },
  };
}

export interface WsClient extends GqlClient {
  readonly client: Client;
  /** Starts a subscription; returns the function that ends it. */
  subscribe<T = Record<string, unknown>>(query: string, variables: Variables, onNext: (data: T) => void, onError?: (e: unknown) => void): () => void;
}

/** One graphql-ws connection (connected and acknowledged when this resolves). */
export async function wsClient(url: string): Promise<WsClient> {
  const wsUrl = url.replace(/^http/, 'ws');
  let connected!: () => void;
  let failed!: (e: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    connected = resolve;
    failed = reject;
  });
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    keepAlive: 0,
    on: {
      connected: () => connected(),
      closed: (e) => failed(new Error(`WebSocket closed before ack: ${(e as { code?: number })?.code}`)),
      error: (e) => failed(e),
    },
  });
  await ready;
  return {
    client,
    request<T>(query: string, variables?: Variables): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        let result: { data?: T; errors?: { message: string; extensions?: { code?: unknown } }[] } | undefined;
        client.subscribe<T>(
          { query, variables },
          {
            next: (r) => {
              result = r as typeof result;
            },
            error: (e) => reject(Array.isArray(e) ? new Error(JSON.stringify(e)) : e),
            complete: () => {
              try {
                resolve(check<T>(result ?? {}));
              } catch (e) {
                reject(e);
              }
            },
          },
        );
      });
    },
    subscribe<T>(query: string, variables: Variables, onNext: (data: T) => void, onError?: (e: unknown) => void) {
      return client.subscribe<T>(
        { query, variables },
        {
          next: (r) => {
            try {
              onNext(check<T>(r as Parameters<typeof check<T>>[0]));
            } catch (e) {
              onError?.(e);
            }
          },
          error: (e) => onError?.(e),
          complete: () => {},
        },
      );
    },
    async close() {
      await client.dispose();
    },
  };
}

// ---------------------------------------------------------------- operations

/** What a producer sends: the task back with its id and status. */
export const ENQUEUE = `mutation BenchEnqueue($input: EnqueueTaskInput!) {
  enqueueTask(input: $input) { created task { id status } }
}`;

export const ENQUEUE_MANY = `mutation BenchEnqueueMany($inputs: [EnqueueTaskInput!]!) {
  enqueueTasks(inputs: $inputs) { created task { id status } }
}`;

/** The worker runner's claim (src/worker/operations.ts), fields and all. */
export const CLAIM = `mutation WorkerClaimTasks($input: ClaimTasksInput!) {
  claimTasks(input: $input) {
    leaseToken
    leaseUntil
    task { ...WorkerTaskFields }
  }
}
fragment WorkerTaskFields on Task {
  id type queue payload priority attempts maxAttempts compatibility region format correlationId timeoutSeconds createdAt
}`;

export const COMPLETE_MANY = `mutation BenchCompleteTasks($inputs: [CompleteTaskInput!]!) {
  completeTasks(inputs: $inputs) { id status }
}`;

export const TASK_EVENTS = `subscription BenchTaskEvents($filter: TaskFilter) {
  taskEvents(filter: $filter) { kind at cursor task { id payload } }
}`;

export interface ClaimedShape {
  leaseToken: string;
  task: { id: string };
}
