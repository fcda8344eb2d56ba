/**
 * Where the API is, the token, and queries and mutations over HTTP.
 *
 * The API is always /graphql on the page's own origin: the token is never sent anywhere
 * else. A token comes from `?token=` (then kept in localStorage and taken out of the
 * address bar) or from localStorage; it is sent as `Authorization: Bearer` on HTTP and in
 * the graphql-ws connectionParams.
 */

const TOKEN_KEY = 'taskwire.token';

export interface ApiConfig {
  endpoint: string;
  wsEndpoint: string;
  token: string | null;
}

export interface GqlError {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GqlResult<T> {
  data?: T | null;
  errors?: readonly GqlError[];
}

/** A failed request: `code` is the GraphQL error's extensions.code, or NETWORK / CONNECTION. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static fromGraphQL(errors: readonly GqlError[]): ApiError {
    const first = errors[0];
    const message = errors.map((e) => e.message).join('; ');
    return new ApiError(String(first?.extensions?.code ?? 'ERROR'), message || 'request failed');
  }

  /** Whatever a graphql-ws sink's error or a failed fetch gave. */
  static from(error: unknown): ApiError {
    if (error instanceof ApiError) return error;
    if (Array.isArray(error)) return ApiError.fromGraphQL(error as GqlError[]);
    if (error && typeof error === 'object' && 'code' in error && 'reason' in error) {
      const close = error as { code: number; reason: string };
      return new ApiError('CONNECTION', `connection closed (${close.code}${close.reason ? `: ${close.reason}` : ''})`);
    }
    return new ApiError('NETWORK', error instanceof Error ? error.message : String(error));
  }
}

export function readConfig(location: Location = window.location): ApiConfig {
  const url = new URL(location.href);
  const endpoint = new URL('/graphql', url).href;
  const wsEndpoint = endpoint.replace(/^http/, 'ws');
  let token = url.searchParams.get('token');
  if (token) {
    if (store(TOKEN_KEY, token)) {
      url.searchParams.delete('token');
      history.replaceState(history.state, '', url);
    }
  } else {
    token = load(TOKEN_KEY);
  }
  return { endpoint, wsEndpoint, token: token || null };
}

export function authHeaders(config: ApiConfig): Record<string, string> {
  return config.token ? { authorization: `Bearer ${config.token}` } : {};
}

/** One query or mutation over HTTP; resolves with `data`, rejects with an ApiError. */
export async function request<T>(config: ApiConfig, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(config.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...authHeaders(config),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new ApiError('NETWORK', `the server cannot be reached (${(e as Error).message})`);
  }
  let body: GqlResult<T>;
  try {
    body = (await response.json()) as GqlResult<T>;
  } catch {
    throw new ApiError('NETWORK', `HTTP ${response.status} ${response.statusText}`);
  }
  if (body.errors?.length) throw ApiError.fromGraphQL(body.errors);
  if (!body.data) throw new ApiError('NETWORK', `HTTP ${response.status}: no data`);
  return body.data;
}

function store(key: string, value: string): boolean {
  try {
    localStorage.setItem(key, value);
    return true;
  } catch {
    return false; // storage disabled: the token stays in the address bar
  }
}

function load(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}
