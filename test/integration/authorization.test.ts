import { SessionModel } from '../../src/auth/session.model';
import { TodoModel } from '../../src/todos/todo.model';
import { UserModel } from '../../src/users/user.model';
import { useTestApp } from '../helpers/app';
import {
  DELETE_USER,
  ME,
  REFRESH,
  SET_USER_ROLE,
  USER_COUNT,
  createTodo,
  login,
  register,
  signInAdmin,
} from '../helpers/operations';
import { codeOf, gql } from '../helpers/graphql';

const t = useTestApp();

const ADMIN_OPERATIONS: Array<[string, string, (id: string) => Record<string, unknown>]> = [
  ['users', USER_COUNT, () => ({})],
  ['user', 'query ($id: ID!) { user(id: $id) { id } }', (id) => ({ id })],
  ['todos', '{ todos { totalCount } }', () => ({})],
  ['setUserRole', SET_USER_ROLE, (id) => ({ id, role: 'ADMIN' })],
  ['deleteUser', DELETE_USER, (id) => ({ id })],
];

describe('admin-only operations', () => {
  it.each(ADMIN_OPERATIONS)(
    '%s: FORBIDDEN for a customer, UNAUTHENTICATED anonymously, allowed for an admin',
    async (_name, query, vars) => {
      const customer = await register(t);
      const victim = await register(t);

      const forbidden = await gql(t.url, query, vars(victim.id), { token: customer.accessToken });
      expect(forbidden.status).toBe(200);
      expect(codeOf(forbidden)).toBe('FORBIDDEN');

      const anonymous = await gql(t.url, query, vars(victim.id));
      expect(codeOf(anonymous)).toBe('UNAUTHENTICATED');

      // Nothing changed for the victim.
      const stored = await UserModel.findById(victim.id).lean();
      expect(stored!.role).toBe('customer');

      const admin = await signInAdmin(t);
      const allowed = await gql(t.url, query, vars(victim.id), { token: admin.accessToken });
      expect(allowed.errors).toBeUndefined();
    },
  );
});

describe('promotion and demotion', () => {
  it('a promoted customer must sign in again and then has admin rights; demotion takes them away', async () => {
    const admin = await signInAdmin(t);
    const user = await register(t);

    const promoted = await gql(
      t.url,
      SET_USER_ROLE,
      { id: user.id, role: 'ADMIN' },
      { token: admin.accessToken },
    );
    expect(promoted.data!.setUserRole).toEqual({ id: user.id, role: 'ADMIN' });

    // Old tokens carried the old role: they stop working.
    expect((await gql(t.url, ME, {}, { token: user.accessToken })).status).toBe(401);
    expect(codeOf(await gql(t.url, REFRESH, { token: user.refreshToken }))).toBe('UNAUTHENTICATED');

    const asAdmin = (await login(t, user.email, user.password)).data!.login;
    expect(asAdmin.user.role).toBe('ADMIN');
    expect(
      (await gql(t.url, USER_COUNT, {}, { token: asAdmin.accessToken })).data!.users.totalCount,
    ).toBeGreaterThan(1);

    const demoted = await gql(
      t.url,
      SET_USER_ROLE,
      { id: user.id, role: 'CUSTOMER' },
      { token: admin.accessToken },
    );
    expect(demoted.data!.setUserRole.role).toBe('CUSTOMER');
    expect((await gql(t.url, USER_COUNT, {}, { token: asAdmin.accessToken })).status).toBe(401);
    const again = (await login(t, user.email, user.password)).data!.login;
    expect(codeOf(await gql(t.url, USER_COUNT, {}, { token: again.accessToken }))).toBe(
      'FORBIDDEN',
    );
  });

  it('an admin cannot change their own role (no accidental lock-out)', async () => {
    const admin = await signInAdmin(t);
    const res = await gql(
      t.url,
      SET_USER_ROLE,
      { id: admin.id, role: 'CUSTOMER' },
      { token: admin.accessToken },
    );
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect((await UserModel.findById(admin.id).lean())!.role).toBe('admin');
  });

  it('answers NOT_FOUND for an unknown user and BAD_USER_INPUT for a malformed id', async () => {
    const admin = await signInAdmin(t);
    const unknown = await gql(
      t.url,
      SET_USER_ROLE,
      { id: '0123456789abcdef01234567', role: 'ADMIN' },
      { token: admin.accessToken },
    );
    expect(codeOf(unknown)).toBe('NOT_FOUND');
    const malformed = await gql(
      t.url,
      'query { user(id: "42") { id } }',
      {},
      { token: admin.accessToken },
    );
    expect(codeOf(malformed)).toBe('BAD_USER_INPUT');
    expect(malformed.errors![0]!.extensions!.field).toBe('id');
  });
});

describe('deleteUser', () => {
  it("removes the user, their todos and sessions; their tokens stop working; others' data stays", async () => {
    const admin = await signInAdmin(t);
    const doomed = await register(t);
    const bystander = await register(t);
    await createTodo(t, doomed.accessToken, 'one');
    await createTodo(t, doomed.accessToken, 'two');
    const kept = await createTodo(t, bystander.accessToken, 'kept');

    const res = await gql(t.url, DELETE_USER, { id: doomed.id }, { token: admin.accessToken });
    expect(res.data!.deleteUser).toBe(true);

    expect(await UserModel.countDocuments({ _id: doomed.id })).toBe(0);
    expect(await TodoModel.countDocuments({ owner: doomed.id })).toBe(0);
    expect(await SessionModel.countDocuments({ user: doomed.id })).toBe(0);
    expect(await TodoModel.countDocuments({ _id: kept.id })).toBe(1);

    expect((await gql(t.url, ME, {}, { token: doomed.accessToken })).status).toBe(401);
    expect(codeOf(await login(t, doomed.email, doomed.password))).toBe('UNAUTHENTICATED');

    const again = await gql(t.url, DELETE_USER, { id: doomed.id }, { token: admin.accessToken });
    expect(codeOf(again)).toBe('NOT_FOUND');
  });
});

describe("another customer's todo", () => {
  it('is reachable by an admin', async () => {
    const owner = await register(t);
    const admin = await signInAdmin(t);
    const todo = await createTodo(t, owner.accessToken, 'visible to admins');
    const res = await gql(
      t.url,
      'query ($id: ID!) { todo(id: $id) { title owner { id } } }',
      { id: todo.id },
      { token: admin.accessToken },
    );
    expect(res.data!.todo).toEqual({ title: 'visible to admins', owner: { id: owner.id } });
    const updated = await gql(
      t.url,
      'mutation ($id: ID!) { updateTodo(id: $id, input: { completed: true }) { completed } }',
      { id: todo.id },
      { token: admin.accessToken },
    );
    expect(updated.data!.updateTodo.completed).toBe(true);
  });
});
