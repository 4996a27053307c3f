import { randomUUID } from 'node:crypto';
import { ensureAdmin } from '../../src/users/admin-bootstrap';
import { type TestApp } from './app';
import { type GraphQLResponse, gql } from './graphql';

/**
 * The GraphQL operations the suites send, each written once, and the fixtures built on them.
 * Operations whose exact text is what a test is about (literal arguments, extra fields, aliases,
 * hostile shapes) stay in that test.
 */

export const AUTH_FIELDS =
  'accessToken refreshToken tokenType expiresIn user { id email name role createdAt }';

export const REGISTER = `mutation ($input: RegisterInput!) { register(input: $input) { ${AUTH_FIELDS} } }`;
export const LOGIN = `mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { ${AUTH_FIELDS} } }`;
export const REFRESH = `mutation ($token: String) { refreshToken(refreshToken: $token) { ${AUTH_FIELDS} } }`;
export const LOGOUT = 'mutation ($token: String) { logout(refreshToken: $token) }';
export const LOGOUT_ALL = 'mutation { logoutAll }';
export const CHANGE_PASSWORD = `mutation ($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) { ${AUTH_FIELDS} } }`;
export const ME = '{ me { id email name role createdAt } }';

export const SESSIONS = '{ sessions { id createdAt lastUsedAt expiresAt userAgent ip current } }';
export const REVOKE_SESSION = 'mutation ($id: ID!) { revokeSession(id: $id) }';

export const SET_USER_ROLE =
  'mutation ($id: ID!, $role: Role!) { setUserRole(id: $id, role: $role) { id role } }';
export const DELETE_USER = 'mutation ($id: ID!) { deleteUser(id: $id) }';
export const USER_COUNT = '{ users { totalCount } }';

export const CREATE_TODO =
  'mutation ($title: String!) { createTodo(input: { title: $title }) { id title } }';
export const TODO = 'query ($id: ID!) { todo(id: $id) { id title } }';
export const DELETE_TODO = 'mutation ($id: ID!) { deleteTodo(id: $id) }';
export const MY_TODOS = `query ($first: Int, $after: String, $completed: Boolean) {
  myTodos(first: $first, after: $after, completed: $completed) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id title completed createdAt updatedAt owner { id email } } }
  }
}`;
/**
 * A write that needs no variables, for requests that must be refused whole: if one is honoured
 * anyway, a todo is stored and the test sees it.
 */
export const PLANT_TODO =
  'mutation { createTodo(input: { title: "planted by an attacker" }) { id } }';

/** Where a request goes: the in-process app or an API process. */
export type Endpoint = Pick<TestApp, 'url'>;

export interface SignedIn {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export const uniqueEmail = (prefix = 'user') => `${prefix}-${randomUUID().slice(0, 8)}@example.com`;

/** A new customer account, signed in by its registration. */
export async function register(
  t: Endpoint,
  overrides: Partial<{ email: string; password: string; name: string }> = {},
): Promise<SignedIn> {
  const input = {
    email: uniqueEmail(),
    password: 'correct horse battery',
    name: 'Test User',
    ...overrides,
  };
  const res = await gql(t.url, REGISTER, { input });
  if (!res.data?.register) throw new Error(`register failed: ${res.text}`);
  const payload = res.data.register;
  return {
    id: payload.user.id,
    email: payload.user.email,
    password: input.password,
    accessToken: payload.accessToken,
    refreshToken: payload.refreshToken,
  };
}

export function login(
  t: Endpoint,
  email: string,
  password: string,
  headers?: Record<string, string>,
): Promise<GraphQLResponse> {
  return gql(t.url, LOGIN, { email, password }, { headers });
}

/** An admin created the way the bootstrap does it, then signed in over HTTP. */
export async function signInAdmin(t: TestApp): Promise<SignedIn> {
  const email = uniqueEmail('admin');
  const password = 'admin password 123';
  await ensureAdmin(t.app.services, { email, password, name: 'Admin' });
  const res = await login(t, email, password);
  if (!res.data?.login) throw new Error(`admin login failed: ${res.text}`);
  return {
    id: res.data.login.user.id,
    email,
    password,
    accessToken: res.data.login.accessToken,
    refreshToken: res.data.login.refreshToken,
  };
}

export async function createTodo(
  t: Endpoint,
  token: string,
  title = 'Buy milk',
): Promise<{ id: string; title: string }> {
  const res = await gql(t.url, CREATE_TODO, { title }, { token });
  if (!res.data?.createTodo) throw new Error(`createTodo failed: ${res.text}`);
  return res.data.createTodo;
}
