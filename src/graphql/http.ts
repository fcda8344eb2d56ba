/**
 * The hot path for `POST /graphql` with a JSON body, the request that producers and
 * workers make all the time. It runs yoga's own envelop pipeline (the same plugins,
 * parse/validate cache, context and error masking as every other transport) directly on
 * node:http, skipping the Fetch API Request/Response objects that yoga builds for each
 * request: those cost more than the GraphQL work of a small mutation. Everything else
 * (GraphiQL, GET, SSE, multipart) still goes through yoga itself.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError, getOperationAST, type DocumentNode, type ExecutionResult } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import { TaskwireError } from '../store/index.js';
import type { Context } from './context.js';

type MaskError = (error: unknown, message: string) => Error;

/** The message for a document that has no operation by the given name (or several and no name). */
export function missingOperation(operationName: string | null | undefined): string {
  return operationName
    ? `the document has no operation named "${operationName}"`
    : 'the document has several operations (or none): give operationName';
}

const ACCEPTED_TYPES = ['application/json', 'application/graphql', 'application/x-www-form-urlencoded', 'multipart/form-data'];

/** A POST whose body is in no format GraphQL over HTTP accepts. */
export function unsupportedMediaType(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  return !ACCEPTED_TYPES.some((t) => type.startsWith(t));
}

/** True when this request is one the fast path handles. */
export function isPlainJsonPost(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) return false;
  const accept = req.headers.accept ?? '';
  return !accept.includes('text/event-stream') && !accept.includes('multipart/mixed');
}

/** Errors as sent: without `extensions.http`, yoga's status hint, which has done its job here. */
function publicErrors(errors: readonly unknown[]): unknown[] {
  return errors.map((e) => {
    const json = e instanceof GraphQLError ? e.toJSON() : (e as { extensions?: Record<string, unknown> });
    if (!json.extensions || !('http' in json.extensions)) return json;
    const { http: _http, ...extensions } = json.extensions;
    return { ...json, extensions };
  });
}

function send(res: ServerResponse, status: number, body: { errors?: readonly unknown[] } & Record<string, unknown>, contentType: string): void {
  const text = JSON.stringify(body.errors ? { ...body, errors: publicErrors(body.errors) } : body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function requestError(res: ServerResponse, status: number, message: string, code = 'VALIDATION'): void {
  send(res, status, { errors: [{ message, extensions: { code } }] }, 'application/json; charset=utf-8');
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
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
  extensions?: unknown;
}

export async function handleJsonPost(
  yoga: YogaServerInstance<Record<string, unknown>, Context>,
  req: IncomingMessage,
  res: ServerResponse,
  options: { maxBodyBytes: number; maskError: MaskError; reqId?: string },
): Promise<void> {
  const body = await readBody(req, options.maxBodyBytes);
  if (body === null) return requestError(res, 413, `request body larger than ${options.maxBodyBytes} bytes`);
  let params: GraphQLParams;
  try {
    params = JSON.parse(body.toString('utf8')) as GraphQLParams;
  } catch {
    return requestError(res, 400, 'the request body is not valid JSON');
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    return requestError(res, 400, 'the request body must be a JSON object with a "query"');
  }
  if (typeof params.query !== 'string' || params.query.length === 0) {
    return requestError(res, 400, 'the request must carry a GraphQL document in "query"');
  }
  if (params.variables != null && (typeof params.variables !== 'object' || Array.isArray(params.variables))) {
    return requestError(res, 400, '"variables" must be a JSON object');
  }
  if (params.operationName != null && typeof params.operationName !== 'string') {
    return requestError(res, 400, '"operationName" must be a string');
  }
  const accept = req.headers.accept ?? '';
  const contentType = accept.includes('application/graphql-response+json')
    ? 'application/graphql-response+json; charset=utf-8'
    : 'application/json; charset=utf-8';
  const mask = (errors: readonly unknown[]) => errors.map((e) => options.maskError(e, 'Unexpected error.'));

  // Aborted if the client disconnects before its answer: a long-poll then claims nothing.
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  const enveloped = yoga.getEnveloped({ req, res, params, signal: controller.signal, reqId: options.reqId });
  let document: DocumentNode;
  try {
    document = enveloped.parse(params.query);
  } catch (e) {
    return send(res, 400, { errors: mask([e]) }, contentType);
  }
  let validationErrors: readonly unknown[];
  try {
    validationErrors = enveloped.validate(enveloped.schema, document);
  } catch (e) {
    validationErrors = [e]; // graphql-armor throws when a limit is exceeded
  }
  if (validationErrors.length > 0) return send(res, 400, { errors: mask(validationErrors) }, contentType);
  const operation = getOperationAST(document, params.operationName as string | undefined);
  if (!operation) {
    return send(res, 400, { errors: mask([new TaskwireError('VALIDATION', missingOperation(params.operationName as string | undefined))]) }, contentType);
  }
  if (operation.operation === 'subscription') {
    return send(
      res,
      400,
      { errors: mask([new GraphQLError('subscriptions run over WebSocket (graphql-ws) or SSE (accept: text/event-stream)')]) },
      contentType,
    );
  }
  let contextValue;
  try {
    contextValue = await enveloped.contextFactory();
  } catch (e) {
    const masked = mask([e]);
    const code = (masked[0] as GraphQLError).extensions?.code;
    return send(res, code === 'UNAUTHENTICATED' ? 401 : 500, { errors: masked }, contentType);
  }
  const result = (await enveloped.execute({
    schema: enveloped.schema,
    document,
    variableValues: params.variables as Record<string, unknown> | undefined,
    operationName: params.operationName as string | undefined,
    contextValue,
    rootValue: {},
  })) as ExecutionResult;
  if (typeof (result as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    return send(res, 400, { errors: mask([new GraphQLError('incremental delivery needs multipart or SSE')]) }, contentType);
  }
  send(res, 200, result as unknown as Record<string, unknown>, contentType);
}
