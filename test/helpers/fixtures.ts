import { randomUUID } from 'node:crypto';
import { ensureAdmin } from '../../src/users/admin-bootstrap';
import { type TestApp } from './app';
import { gql } from './graphql';

export const AUTH_FIELDS =
  'accessToken refreshToken tokenType expiresIn user { id email name role createdAt }';

export interface SignedIn {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export const uniqueEmail = (prefix = 'user') => `${prefix}-${randomUUID().slice(0, 8)}@example.com`;

export async function register(
  t: Pick<TestApp, 'url'>,
  overrides: Partial<{ email: string; password: string; name: string }> = {},
): Promise<SignedIn> {
  const input = {
    email: uniqueEmail(),
    password: 'correct horse battery',
    name: 'Test User',
    ...overrides,
  };
  const res = await gql(
    t.url,
    `mutation ($input: RegisterInput!) { register(input: $input) { ${AUTH_FIELDS} } }`,
    {
      input,
    },
  );
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

export async function login(
  t: Pick<TestApp, 'url'>,
  email: string,
  password: string,
  headers?: Record<string, string>,
) {
  return gql(
    t.url,
    `mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { ${AUTH_FIELDS} } }`,
    { email, password },
    { headers },
  );
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
  t: TestApp,
  token: string,
  title = 'Buy milk',
): Promise<{ id: string; title: string }> {
  const res = await gql(
    t.url,
    'mutation ($title: String!) { createTodo(input: { title: $title }) { id title } }',
    { title },
    { token },
  );
  if (!res.data?.createTodo) throw new Error(`createTodo failed: ${res.text}`);
  return res.data.createTodo;
}
