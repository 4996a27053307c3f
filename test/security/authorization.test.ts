import mongoose from 'mongoose';
import { SessionModel } from '../../src/auth/session.model';
import { TodoModel } from '../../src/todos/todo.model';
import { UserModel } from '../../src/users/user.model';
import { useTestApp } from '../helpers/app';
import {
  CREATE_TODO,
  DELETE_TODO,
  DELETE_USER,
  LOGIN,
  LOGOUT_ALL,
  REFRESH,
  REGISTER,
  REVOKE_SESSION,
  SET_USER_ROLE,
  type SignedIn,
  createTodo,
  register,
  uniqueEmail,
} from '../helpers/operations';
import { codeOf, gql } from '../helpers/graphql';
import { auditCount, base64url, databaseSnapshot, rawRequest } from './support';

/**
 * IDOR on every todo operation, role checks, mass assignment through variables, and MongoDB
 * operator objects smuggled into arguments. Two customers: Mallory attacks, Bob owns things.
 */

const t = useTestApp();
let mallory: SignedIn;
let bob: SignedIn;
let bobTodo: { id: string; title: string };
let malloryTodo: { id: string; title: string };

beforeAll(async () => {
  mallory = await register(t);
  bob = await register(t);
  bobTodo = await createTodo(t, bob.accessToken, 'Bob’s secret plan');
  malloryTodo = await createTodo(t, mallory.accessToken, 'Mallory’s own');
});

const unknownId = () => new mongoose.Types.ObjectId().toHexString();

/** Sends `query` as Mallory (or anonymously) and expects `code`, with nothing stored changing. */
async function expectRefusedUnchanged(
  query: string,
  variables: Record<string, unknown>,
  code: string,
  status = 200,
  as: 'mallory' | 'anonymous' = 'mallory',
) {
  const before = await databaseSnapshot();
  const res = await gql(
    t.url,
    query,
    variables,
    as === 'mallory' ? { token: mallory.accessToken } : {},
  );
  expect(res.status).toBe(status);
  expect(codeOf(res)).toBe(code);
  expect(await databaseSnapshot()).toEqual(before);
  return res;
}

describe('IDOR: another customer’s todo is NOT_FOUND, exactly like one that does not exist', () => {
  const OPERATIONS: Array<[string, string, Record<string, unknown>]> = [
    ['todo', 'query ($id: ID!) { todo(id: $id) { id title owner { email } } }', {}],
    [
      'updateTodo (title and completed)',
      'mutation ($id: ID!) { updateTodo(id: $id, input: { title: "pwned", completed: true }) { id } }',
      {},
    ],
    [
      'updateTodo (empty input, read-back path)',
      'mutation ($id: ID!) { updateTodo(id: $id, input: {}) { id title } }',
      {},
    ],
    ['deleteTodo', DELETE_TODO, {}],
  ];

  it.each(OPERATIONS)('%s', async (_name, query, extra) => {
    const res = await expectRefusedUnchanged(query, { id: bobTodo.id, ...extra }, 'NOT_FOUND');
    // No data at all (non-null mutation fields) or a null todo: nothing of Bob's either way.
    expect(Object.values(res.data ?? {}).filter((value) => value !== null)).toEqual([]);
    expect(res.text).not.toContain('Bob’s secret plan');
    const missing = await gql(
      t.url,
      query,
      { id: unknownId(), ...extra },
      { token: mallory.accessToken },
    );
    expect(res.errors).toEqual(missing.errors);
    expect(await TodoModel.findById(bobTodo.id).lean()).toMatchObject({
      title: 'Bob’s secret plan',
      completed: false,
    });
  });

  it('myTodos cannot be steered to another owner’s todos', async () => {
    const res = await gql(
      t.url,
      '{ myTodos(first: 100) { totalCount edges { node { id owner { id } } } } }',
      {},
      { token: mallory.accessToken },
    );
    expect(res.status).toBe(200);
    const ids = res.data!.myTodos.edges.map((edge: any) => edge.node.id);
    expect(ids).toEqual([malloryTodo.id]);
    expect(res.data!.myTodos.totalCount).toBe(1);
  });

  it('revoking another user’s session is NOT_FOUND, like an unknown session, and ends nothing', async () => {
    const bobSession = await SessionModel.findOne({ user: bob.id }).lean();
    const res = await expectRefusedUnchanged(
      REVOKE_SESSION,
      { id: bobSession!._id.toHexString() },
      'NOT_FOUND',
    );
    const missing = await gql(
      t.url,
      REVOKE_SESSION,
      { id: unknownId() },
      { token: mallory.accessToken },
    );
    expect(res.errors).toEqual(missing.errors);
    expect(
      (await gql(t.url, REFRESH, { token: bob.refreshToken })).data!.refreshToken,
    ).toBeTruthy();
  });
});

describe('role checks', () => {
  it.each([
    ['promote themself to ADMIN', SET_USER_ROLE, () => ({ id: mallory.id, role: 'ADMIN' })],
    ['delete another user', DELETE_USER, () => ({ id: bob.id })],
    ['read another user', 'query ($id: ID!) { user(id: $id) { email } }', () => ({ id: bob.id })],
    ['list everyone’s todos', '{ todos(first: 100) { edges { node { title } } } }', () => ({})],
    ['read the audit log', '{ auditEvents(first: 10) { edges { node { type } } } }', () => ({})],
  ])('a customer cannot %s (FORBIDDEN, nothing changed)', async (_label, query, variables) => {
    const res = await expectRefusedUnchanged(query, variables(), 'FORBIDDEN');
    expect(res.text).not.toContain(bob.email);
    expect(res.text).not.toContain('Bob’s secret plan');
  });

  it.each([
    ['createTodo', CREATE_TODO, () => ({ title: 'anonymous' })],
    [
      'updateTodo',
      'mutation ($id: ID!) { updateTodo(id: $id, input: { completed: true }) { id } }',
      () => ({ id: bobTodo.id }),
    ],
    ['deleteTodo', DELETE_TODO, () => ({ id: bobTodo.id })],
    ['setUserRole', SET_USER_ROLE, () => ({ id: bob.id, role: 'ADMIN' })],
    ['logoutAll', LOGOUT_ALL, () => ({})],
  ])(
    'an anonymous caller cannot %s (UNAUTHENTICATED, nothing changed)',
    async (_l, query, vars) => {
      await expectRefusedUnchanged(query, vars(), 'UNAUTHENTICATED', 200, 'anonymous');
    },
  );
});

describe('mass assignment through variables', () => {
  it.each([
    ['role', { role: 'ADMIN' }],
    ['role (lower-case, as stored)', { role: 'admin' }],
    ['credentialVersion', { credentialVersion: -1 }],
    ['passwordHash', { passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$AAAA$BBBB' }],
    ['_id', { _id: '000000000000000000000001' }],
  ])('register refuses an extra %s field and creates no account', async (_label, extra) => {
    const email = uniqueEmail('mass');
    const input = { email, password: 'long enough password', name: 'Mass', ...extra };
    await expectRefusedUnchanged(REGISTER, { input }, 'BAD_USER_INPUT', 400, 'anonymous');
    expect(await UserModel.countDocuments({ email })).toBe(0);
  });

  it.each([
    ['owner', () => ({ owner: bob.id })],
    ['completed', () => ({ completed: true })],
    ['createdAt', () => ({ createdAt: '2000-01-01T00:00:00Z' })],
  ])('createTodo refuses an extra %s field and stores nothing', async (_label, extra) => {
    await expectRefusedUnchanged(
      'mutation ($input: CreateTodoInput!) { createTodo(input: $input) { id } }',
      { input: { title: 'smuggled', ...extra() } },
      'BAD_USER_INPUT',
      400,
    );
  });

  it.each([
    ['owner', () => ({ owner: bob.id })],
    ['id', () => ({ id: bobTodo.id })],
    ['_id', () => ({ _id: bobTodo.id })],
  ])('updateTodo refuses an extra %s field on one’s own todo', async (_label, extra) => {
    await expectRefusedUnchanged(
      'mutation ($id: ID!, $input: UpdateTodoInput!) { updateTodo(id: $id, input: $input) { id } }',
      { id: malloryTodo.id, input: { title: 'moved', ...extra() } },
      'BAD_USER_INPUT',
      400,
    );
  });

  it('a __proto__ key in the body or the variables pollutes nothing and stores nothing', async () => {
    const before = await databaseSnapshot();
    const body = `{"query":"mutation ($input: CreateTodoInput!) { createTodo(input: $input) { id } }","__proto__":{"polluted":"body"},"variables":{"__proto__":{"polluted":"vars"},"input":{"title":"x","__proto__":{"owner":"${bob.id}","polluted":"input"}}}}`;
    const res = await rawRequest(t.url, {
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${mallory.accessToken}`,
      },
      body,
    });
    expect(res.status).toBe(400);
    expect(res.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).owner).toBeUndefined();
    expect(await databaseSnapshot()).toEqual(before);
  });
});

describe('oversized and out-of-range inputs', () => {
  it.each([
    [
      'a 10 000-character name',
      'mutation ($v: String!) { register(input: { email: "big-name@example.com", password: "long enough pw", name: $v }) { accessToken } }',
      'x'.repeat(10_000),
      'name',
      'anonymous',
    ],
    [
      'a 10 000-character email',
      'mutation ($v: String!) { register(input: { email: $v, password: "long enough pw", name: "N" }) { accessToken } }',
      `${'a'.repeat(10_000)}@example.com`,
      'email',
      'anonymous',
    ],
    [
      'a 10 000-character title',
      'mutation ($v: String!) { createTodo(input: { title: $v }) { id } }',
      't'.repeat(10_000),
      'title',
      'mallory',
    ],
    [
      'a 10 000-character cursor',
      'query ($v: String) { myTodos(after: $v) { totalCount } }',
      'A'.repeat(10_000),
      'after',
      'mallory',
    ],
    [
      'a page of 101',
      'query ($v: Int) { myTodos(first: $v) { totalCount } }',
      101,
      'first',
      'mallory',
    ],
    [
      'a page of -1',
      'query ($v: Int) { myTodos(first: $v) { totalCount } }',
      -1,
      'first',
      'mallory',
    ],
  ] as const)('%s is BAD_USER_INPUT naming the field', async (_l, query, v, field, as) => {
    const res = await expectRefusedUnchanged(query, { v }, 'BAD_USER_INPUT', 200, as);
    expect(res.errors![0]!.extensions!.field).toBe(field);
  });

  it('a page size beyond 32-bit Int is refused before execution', async () => {
    await expectRefusedUnchanged(
      'query ($v: Int) { myTodos(first: $v) { totalCount } }',
      { v: 2 ** 31 },
      'BAD_USER_INPUT',
      400,
    );
  });
});

describe('operator objects in variables', () => {
  it.each([
    ['email {$ne: null}', () => ({ email: { $ne: null }, password: 'anything at all' })],
    ['email {$regex: ".*"}', () => ({ email: { $regex: '.*' }, password: 'anything at all' })],
    ['password {$ne: null}', () => ({ email: bob.email, password: { $ne: null } })],
    ['password {$exists: true}', () => ({ email: bob.email, password: { $exists: true } })],
    ['email as a list', () => ({ email: [bob.email], password: 'anything at all' })],
  ])('login refuses %s before any password check (400 BAD_USER_INPUT)', async (_l, vars) => {
    const checks = await auditCount(['LOGIN_FAILED', 'LOGIN_SUCCEEDED']);
    const res = await expectRefusedUnchanged(LOGIN, vars(), 'BAD_USER_INPUT', 400, 'anonymous');
    expect(res.data).toBeUndefined();
    expect(await auditCount(['LOGIN_FAILED', 'LOGIN_SUCCEEDED'])).toBe(checks);
  });

  it.each([
    ['todo', 'query ($id: ID!) { todo(id: $id) { title } }'],
    ['updateTodo', 'mutation ($id: ID!) { updateTodo(id: $id, input: { title: "pwned" }) { id } }'],
    ['deleteTodo', DELETE_TODO],
  ])('%s refuses an operator object as id (400)', async (_name, query) => {
    await expectRefusedUnchanged(query, { id: { $ne: null } }, 'BAD_USER_INPUT', 400);
  });

  it.each([
    ['an operator spelled as a string', '{"$ne":null}'],
    ['a where-clause', "507f1f77bcf86cd799439011' || '1'=='1"],
    ['an id with a trailing operator', `${'a'.repeat(24)}[$ne]`],
  ])('deleteTodo refuses %s as a malformed id naming the field', async (_label, id) => {
    const res = await expectRefusedUnchanged(DELETE_TODO, { id }, 'BAD_USER_INPUT');
    expect(res.errors![0]!.extensions!.field).toBe('id');
  });

  it.each([
    ['a JSON operator', base64url('{"$gt":""}')],
    ['a timestamp with an operator', base64url(`1:{"$gt":""}`)],
    ['an overlong cursor', base64url(`1:${'a'.repeat(24)}`.padEnd(80, '0'))],
  ])('a forged cursor (%s) is BAD_USER_INPUT on after', async (_label, after) => {
    const res = await gql(
      t.url,
      'query ($after: String) { myTodos(after: $after) { edges { node { id } } } }',
      { after },
      { token: mallory.accessToken },
    );
    expect(res.status).toBe(200);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.extensions!.field).toBe('after');
    expect(res.text).not.toContain('Bob’s secret plan');
  });

  it('the completed filter refuses an operator object', async () => {
    await expectRefusedUnchanged(
      'query ($c: Boolean) { myTodos(completed: $c) { totalCount } }',
      { c: { $ne: true } },
      'BAD_USER_INPUT',
      400,
    );
  });

  it('refreshToken refuses an operator object and rotates nothing', async () => {
    await expectRefusedUnchanged(
      REFRESH,
      { token: { $ne: null } },
      'BAD_USER_INPUT',
      400,
      'anonymous',
    );
  });

  it('updateTodo refuses an update operator as the title', async () => {
    await expectRefusedUnchanged(
      'mutation ($id: ID!, $input: UpdateTodoInput!) { updateTodo(id: $id, input: $input) { id } }',
      { id: malloryTodo.id, input: { title: { $set: { owner: bob.id } } } },
      'BAD_USER_INPUT',
      400,
    );
  });
});
