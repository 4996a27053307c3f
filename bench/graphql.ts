import { type HttpRequest } from './load';

export interface GraphQLBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** The request autocannon and fetch both send: one operation, JSON, optionally a token. */
export function graphqlRequest(
  query: string,
  variables?: Record<string, unknown>,
  token?: string,
): HttpRequest {
  return {
    method: 'POST',
    path: '/graphql',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(variables ? { query, variables } : { query }),
  };
}

export async function send<T>(
  baseUrl: string,
  request: HttpRequest,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers: request.headers,
    body: request.body,
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** One operation that must succeed; anything else stops the bench with the server's answer. */
export async function graphql<T>(
  baseUrl: string,
  query: string,
  variables?: Record<string, unknown>,
  token?: string,
): Promise<T> {
  const { status, body } = await send<GraphQLBody<T>>(
    baseUrl,
    graphqlRequest(query, variables, token),
  );
  if (status !== 200 || body.errors?.length || !body.data) {
    throw new Error(`GraphQL ${status}: ${JSON.stringify(body.errors ?? body)}`);
  }
  return body.data;
}

export const ME = '{ me { id email role } }';
export const myTodos = (first: number) =>
  `{ myTodos(first: ${first}) { edges { node { id title completed owner { email } } } } }`;
export const LOGIN =
  'mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }';
export const REGISTER =
  'mutation Register($input: RegisterInput!) { register(input: $input) { accessToken } }';
