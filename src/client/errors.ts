/**
 * What a failed request looks like to a client: an ApiError whose `code` is the GraphQL
 * error's extensions.code (VALIDATION, FORBIDDEN, ...), or NETWORK / CONNECTION when no
 * answer came. Shared by the browser client and the dashboard.
 */

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
    // A browser's WebSocket error is a bare Event: nothing more to say than that it failed.
    if (error && typeof error === 'object' && 'type' in error && !(error instanceof Error)) {
      return new ApiError('CONNECTION', 'the connection to the server failed');
    }
    return new ApiError('NETWORK', error instanceof Error ? error.message : String(error));
  }
}
