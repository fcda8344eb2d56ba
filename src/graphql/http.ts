/**
 * The hot path for `POST /graphql` with a JSON body, the request that producers and
 * workers make all the time. It runs yoga's own envelop pipeline (the same plugins,
 * parse/validate cache, context and error masking as every other transport) directly on
 * node:http, skipping the Fetch API Request/Response objects that yoga builds for each
 * request: those cost more than the GraphQL work of a small mutation. Everything else
 * (GraphiQL, GET, SSE, multipart) still goes through yoga itself.
 *
 * Its answers are yoga's, byte for byte (test/graphql/http-conformance.test.ts sends the
 * same requests to both): the fast path only takes requests it can answer exactly as
 * yoga would, a valid operation that executes. Anything unusual (a body that is not a
 * GraphQL request object, a document that does not parse or validate, no operation to
 * run, a subscription, an Accept header that picks no JSON answer, a context that cannot
 * be built) has had no side effect yet and is handed to yoga's fetch handler with the
 * body already read, so yoga's own rules answer it. After execution, a result with
 * errors is turned into a response by yoga's own result processor.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getCORSHeadersByRequestAndOptions } from '@whatwg-node/server';
import { getOperationAST, type DocumentNode, type ExecutionResult } from 'graphql';
import { processRegularResult, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Context } from './context.js';

type Yoga = YogaServerInstance<Record<string, unknown>, Context>;

/** The message for a document that has no operation by the given name (or several and no name). */
export function missingOperation(operationName: string | null | undefined): string {
  return operationName
    ? `the document has no operation named "${operationName}"`
    : 'the document has several operations (or none): give operationName';
}

/**
 * yoga's test of a request's content type (first of a list, parameters allowed): the
 * fast path and the media-type plugin below take exactly the requests yoga's parsers do.
 */
function contentTypeIs(header: string | undefined, expected: string): boolean {
  const type = header?.split(',')[0];
  return type === expected || !!type?.startsWith(`${expected};`);
}

/**
 * A yoga plugin: a POST that none of yoga's parsers reads (JSON, GraphQL text, forms,
 * multipart) gets yoga's 415, with a body that says what to send (yoga's own has none).
 * It runs after yoga's parsers have had their turn, so `requestParser` is theirs.
 */
export const unsupportedMediaTypePlugin: Plugin = {
  onRequestParse({ request, requestParser, endResponse, fetchAPI }) {
    if (requestParser || request.method !== 'POST') return;
    const body = JSON.stringify({ errors: [{ message: 'send GraphQL requests as application/json', extensions: { code: 'VALIDATION' } }] });
    endResponse(new fetchAPI.Response(body, { status: 415, statusText: 'Unsupported Media Type', headers: { 'content-type': 'application/json; charset=utf-8' } }));
  },
};

/** True when this request is one the fast path may take (it may still hand it to yoga). */
export function isPlainJsonPost(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const type = req.headers['content-type'];
  if (!contentTypeIs(type, 'application/json')) return false;
  const accept = req.headers.accept ?? '';
  return !accept.includes('text/event-stream') && !accept.includes('multipart/mixed');
}

const REGULAR_TYPES = ['application/graphql-response+json', 'application/json'] as const;
type RegularType = (typeof REGULAR_TYPES)[number];

/**
 * The media type yoga answers a single (non-streamed) result in, from the Accept header,
 * by yoga's rules: the header's types are read right to left, only utf-8, no q-values,
 * and the last match wins; null when yoga would not answer with JSON.
 */
export function regularMediaType(accept: string | undefined): RegularType | null {
  // Clients send the same header on every request: the last answer is kept.
  if (accept === lastAccept.header) return lastAccept.type;
  const type = parseRegularMediaType(accept);
  lastAccept = { header: accept, type };
  return type;
}

let lastAccept: { header: string | undefined; type: RegularType | null } = { header: undefined, type: 'application/json' };

function parseRegularMediaType(accept: string | undefined): RegularType | null {
  const requested = (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',');
  let chosen: RegularType | null = null;
  for (let i = requested.length - 1; i >= 0; i--) {
    const [type, ...params] = requested[i]!.split(';');
    const charset = params.find((p) => p.includes('charset=')) ?? 'charset=utf-8';
    if (charset !== 'charset=utf-8') continue;
    const [pre, suf] = type!.split('/');
    for (const offered of REGULAR_TYPES) {
      const [offeredPre, offeredSuf] = offered.split('/');
      if ((pre === '*' || pre === offeredPre) && (suf === '*' || suf === offeredSuf)) chosen = offered;
    }
  }
  return chosen;
}

/** yoga's default CORS answer (every origin, credentials), from the request's own headers. */
function corsHeaders(req: IncomingMessage): Record<string, string> | null {
  if (req.headers.origin === undefined) return null;
  const request = { headers: { get: (name: string) => (req.headers[name] as string | undefined) ?? null } };
  return getCORSHeadersByRequestAndOptions(request as unknown as Request, {});
}

function sendText(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string | number>, text: string): void {
  const cors = corsHeaders(req);
  res.writeHead(status, { ...headers, ...cors, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Writes a Fetch API response (from yoga) to node's response; streams (SSE, multipart) as they come. */
async function sendResponse(req: IncomingMessage, res: ServerResponse, response: Response, addCors: boolean): Promise<void> {
  const headers: Record<string, string | number> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  Object.assign(headers, addCors ? corsHeaders(req) : null);
  const type = response.headers.get('content-type') ?? '';
  if (response.body && (type.startsWith('text/event-stream') || type.startsWith('multipart/mixed'))) {
    res.writeHead(response.status, response.statusText || undefined, headers);
    res.flushHeaders();
    const reader = response.body.getReader();
    res.on('close', () => void reader.cancel().catch(() => {}));
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      res.write(value);
    }
    res.end();
    return;
  }
  // Headers as yoga gave them (it sets content-length where it knows it).
  const body = response.body ? Buffer.from(await response.arrayBuffer()) : undefined;
  res.writeHead(response.status, response.statusText || undefined, headers);
  res.end(body);
}

/** How many JSON POSTs the fast path handed to yoga (tests check which path a request took). */
export const fastPathCounters = { handedToYoga: 0 };

/** The request, body already read, answered by yoga's fetch handler. */
async function answerThroughYoga(yoga: Yoga, req: IncomingMessage, res: ServerResponse, body: Buffer, context: Record<string, unknown>): Promise<void> {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection') headers.append(name, req.rawHeaders[i + 1]!);
  }
  fastPathCounters.handedToYoga++;
  const url = `http://${req.headers.host ?? 'localhost'}${req.url ?? '/graphql'}`;
  const response = await yoga.fetch(url, { method: req.method, headers, body }, context);
  await sendResponse(req, res, response, false);
}

/** Reads the body, refusing more than `maxBytes` (also for chunked bodies, counted as they arrive). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface GraphQLParams {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
  extensions?: Record<string, unknown> | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const PARAM_NAMES = new Set(['query', 'variables', 'operationName', 'extensions']);

/** The body as GraphQL parameters, when yoga would take them as they are; otherwise null. */
function plainParams(body: Buffer): GraphQLParams | null {
  let params: unknown;
  try {
    params = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (!isObject(params)) return null;
  for (const key in params) if (params[key] != null && !PARAM_NAMES.has(key)) return null;
  const { query, variables, operationName, extensions } = params;
  if (typeof query !== 'string') return null;
  if (variables != null && !isObject(variables)) return null;
  if (operationName != null && typeof operationName !== 'string') return null;
  if (extensions != null && !isObject(extensions)) return null;
  return params as unknown as GraphQLParams;
}

export async function handleJsonPost(
  yoga: Yoga,
  req: IncomingMessage,
  res: ServerResponse,
  options: { maxBodyBytes: number; reqId?: string },
): Promise<void> {
  const body = await readBody(req, options.maxBodyBytes);
  if (body === null) {
    const text = JSON.stringify({ errors: [{ message: `request body larger than ${options.maxBodyBytes} bytes`, extensions: { code: 'VALIDATION' } }] });
    return sendText(req, res, 413, { 'content-type': 'application/json; charset=utf-8' }, text);
  }
  const serverContext = { req, res, reqId: options.reqId };
  const toYoga = () => answerThroughYoga(yoga, req, res, body, serverContext);

  const mediaType = regularMediaType(req.headers.accept);
  const params = mediaType && plainParams(body);
  if (!params) return toYoga();

  // Aborted if the client disconnects before its answer: a long-poll then claims nothing.
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  const enveloped = yoga.getEnveloped({ ...serverContext, params, signal: controller.signal });
  let document: DocumentNode;
  try {
    document = enveloped.parse(params.query);
    // graphql-armor throws when a limit is exceeded
    if (enveloped.validate(enveloped.schema, document).length > 0) return toYoga();
  } catch {
    return toYoga();
  }
  const operation = getOperationAST(document, params.operationName ?? undefined);
  if (!operation || operation.operation === 'subscription') return toYoga();
  let contextValue;
  try {
    contextValue = await enveloped.contextFactory();
  } catch {
    return toYoga();
  }
  const result = (await enveloped.execute({
    schema: enveloped.schema,
    document,
    variableValues: params.variables ?? undefined,
    operationName: params.operationName ?? undefined,
    contextValue,
    rootValue: {},
  })) as ExecutionResult & { stringify?: (r: unknown) => string };
  if (!result.errors?.length && !result.extensions && typeof result === 'object' && !(Symbol.asyncIterator in result)) {
    const text = (result.stringify ?? JSON.stringify)(result);
    return sendText(req, res, 200, { 'content-type': `${mediaType}; charset=utf-8` }, text);
  }
  // Errors decide the status (and strip yoga's internal extensions): yoga's own processor.
  return sendResponse(req, res, await processRegularResult(result, yoga.fetchAPI, mediaType), true);
}
