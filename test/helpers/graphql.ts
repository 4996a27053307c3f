/** A minimal GraphQL-over-HTTP client for tests: real requests, nothing mocked. */

export interface GraphQLErrorBody {
  message: string;
  path?: Array<string | number>;
  extensions?: { code?: string; reason?: string; field?: string; [key: string]: unknown };
}

export interface GraphQLResponse<TData = Record<string, any>> {
  status: number;
  headers: Headers;
  /** Raw response text, for assertions that nothing secret leaks anywhere in it. */
  text: string;
  data: TData | null | undefined;
  errors: GraphQLErrorBody[] | undefined;
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
}

export async function gql<TData = Record<string, any>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  options: RequestOptions = {},
): Promise<GraphQLResponse<TData>> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...options.headers,
  };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body: { data?: TData | null; errors?: GraphQLErrorBody[] } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (e.g. an HTML error page): leave data and errors undefined; `text` has it.
  }
  return {
    status: response.status,
    headers: response.headers,
    text,
    data: body.data,
    errors: body.errors,
  };
}

/** The `extensions.code` of the first error, or undefined. */
export const codeOf = (response: GraphQLResponse) => response.errors?.[0]?.extensions?.code;

/** The whole request was refused by the Bearer check: RFC 6750 401, no data, one error. */
export function expectTokenRefused(
  res: GraphQLResponse,
  reason: 'INVALID_TOKEN' | 'TOKEN_EXPIRED' = 'INVALID_TOKEN',
): void {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  expect(res.data).toBeUndefined();
  expect(res.errors).toHaveLength(1);
  expect(res.errors![0]!.extensions).toEqual({ code: 'UNAUTHENTICATED', reason });
}
