/**
 * Where the API is, the token, and queries and mutations over HTTP.
 *
 * The API is always /graphql on the page's own origin: the token is never sent anywhere
 * else. A token comes from `?token=` (then kept in localStorage and taken out of the
 * address bar) or from localStorage; it is sent as `Authorization: Bearer` on HTTP and in
 * the graphql-ws connectionParams.
 */

import { ApiError, type GqlResult } from '../../client/errors.js';

export { ApiError, type GqlError, type GqlResult } from '../../client/errors.js';

const TOKEN_KEY = 'taskwire.token';

export interface ApiConfig {
  endpoint: string;
  wsEndpoint: string;
  token: string | null;
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
