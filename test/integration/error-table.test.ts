import mongoose from 'mongoose';
import { AuditEventModel } from '../../src/audit/audit.model';
import { TodoModel } from '../../src/todos/todo.model';
import { productionEnv, useTestApp } from '../helpers/app';
import {
  ME,
  REFRESH,
  REGISTER,
  TODO,
  USER_COUNT,
  createTodo,
  login,
  register,
  uniqueEmail,
} from '../helpers/operations';
import { codeOf, gql } from '../helpers/graphql';

/**
 * One test per row of the contract's error table (spec/API.md), each over HTTP. Rows covered
 * in depth elsewhere are repeated here in their simplest form, so this file reads as the table.
 */
describe('the error table', () => {
  const t = useTestApp({ LOGIN_MAX_FAILURES: '3', REFRESH_REUSE_GRACE: '0' });

  it('no user on a field that needs one: UNAUTHENTICATED', async () => {
    const res = await gql(t.url, ME);
    expect(res.status).toBe(200);
    expect(codeOf(res)).toBe('UNAUTHENTICATED');
  });

  it('bad token: HTTP 401 UNAUTHENTICATED with a reason', async () => {
    const res = await gql(t.url, ME, {}, { token: 'not.a.jwt' });
    expect(res.status).toBe(401);
    expect(res.errors![0]!.extensions).toEqual({
      code: 'UNAUTHENTICATED',
      reason: 'INVALID_TOKEN',
    });
  });

  it('wrong email or password: UNAUTHENTICATED, "Invalid email or password"', async () => {
    const res = await login(t, uniqueEmail(), 'whatever password');
    expect(res.errors![0]).toMatchObject({
      message: 'Invalid email or password',
      extensions: { code: 'UNAUTHENTICATED' },
    });
  });

  it('signed in but the role does not allow it: FORBIDDEN', async () => {
    const customer = await register(t);
    expect(codeOf(await gql(t.url, USER_COUNT, {}, { token: customer.accessToken }))).toBe(
      'FORBIDDEN',
    );
  });

  it("a todo that does not exist, or someone else's: NOT_FOUND", async () => {
    const owner = await register(t);
    const other = await register(t);
    const todo = await createTodo(t, owner.accessToken);
    expect(
      codeOf(
        await gql(
          t.url,
          TODO,
          { id: new mongoose.Types.ObjectId().toHexString() },
          { token: owner.accessToken },
        ),
      ),
    ).toBe('NOT_FOUND');
    expect(codeOf(await gql(t.url, TODO, { id: todo.id }, { token: other.accessToken }))).toBe(
      'NOT_FOUND',
    );
  });

  it('invalid input: BAD_USER_INPUT naming the field', async () => {
    const res = await gql(t.url, REGISTER, {
      input: { email: 'nope', password: 'long enough', name: 'N' },
    });
    expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
  });

  it('email already registered: BAD_USER_INPUT', async () => {
    const account = await register(t);
    const res = await gql(t.url, REGISTER, {
      input: { email: account.email, password: 'long enough to pass today', name: 'N' },
    });
    expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
  });

  it('refresh token unknown, revoked or reused: UNAUTHENTICATED', async () => {
    const account = await register(t);
    expect(codeOf(await gql(t.url, REFRESH, { token: 'unknown' }))).toBe('UNAUTHENTICATED');
    const next = (await gql(t.url, REFRESH, { token: account.refreshToken })).data!.refreshToken
      .refreshToken;
    expect(codeOf(await gql(t.url, REFRESH, { token: account.refreshToken }))).toBe(
      'UNAUTHENTICATED',
    ); // reused
    expect(codeOf(await gql(t.url, REFRESH, { token: next }))).toBe('UNAUTHENTICATED'); // family revoked
  });

  it('too many failed logins: TOO_MANY_REQUESTS, HTTP 429 with Retry-After, even with the right password', async () => {
    const account = await register(t);
    for (let i = 0; i < 3; i += 1)
      expect(codeOf(await login(t, account.email, 'wrong password'))).toBe('UNAUTHENTICATED');
    const refused = await login(t, account.email, account.password);
    expect(refused.status).toBe(429);
    expect(codeOf(refused)).toBe('TOO_MANY_REQUESTS');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(900);
    expect(refused.data).toBeNull();

    // Each refusal is answered, but only the first of the window is written to the audit log.
    expect((await login(t, account.email, account.password)).status).toBe(429);
    expect(await AuditEventModel.countDocuments({ type: 'LOGIN_THROTTLED' })).toBe(1);
  });
});

describe('anything unexpected (production)', () => {
  const t = useTestApp(productionEnv());

  it('is INTERNAL_SERVER_ERROR with a masked message and a request id found in the log', async () => {
    const account = await register(t);
    // Data the code never writes: a todo whose createdAt is not a date.
    await TodoModel.collection.insertOne({
      title: 'corrupt',
      completed: false,
      owner: new mongoose.Types.ObjectId(account.id),
      createdAt: 'yesterday-ish',
      updatedAt: new Date(),
    });
    const res = await gql(
      t.url,
      '{ myTodos { edges { node { title createdAt } } } }',
      {},
      { token: account.accessToken },
    );
    const error = res.errors![0]!;
    expect(error.message).toBe('Internal server error');
    expect(error.extensions!.code).toBe('INTERNAL_SERVER_ERROR');
    const requestId = error.extensions!.requestId as string;
    expect(requestId).toBe(res.headers.get('x-request-id'));
    // The real cause is in the log under that id, and nowhere in the response.
    const logged: any = t.logs.find((line) => line.requestId === requestId && line.level === 50);
    expect(logged.err.message).toEqual(expect.any(String));
    expect(res.text).not.toContain(logged.err.message);
    expect(res.text).not.toMatch(/stack|src\/|node_modules|yesterday/);
  });
});
