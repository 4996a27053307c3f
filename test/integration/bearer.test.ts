import { TodoModel } from '../../src/todos/todo.model';
import { useTestApp } from '../helpers/app';
import { ME, PLANT_TODO, register } from '../helpers/operations';
import { expectTokenRefused, gql } from '../helpers/graphql';

const t = useTestApp();

/** Sends PLANT_TODO with a raw Authorization header and checks the request was refused whole. */
async function expectRefused(authorization: string) {
  const before = await TodoModel.countDocuments();
  expectTokenRefused(await gql(t.url, PLANT_TODO, {}, { headers: { authorization } }));
  expect(await TodoModel.countDocuments()).toBe(before);
}

describe('the Bearer header', () => {
  it('is optional: without it a request is anonymous', async () => {
    const res = await gql(t.url, ME);
    expect(res.status).toBe(200);
    expect(res.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('accepts the scheme word in any case', async () => {
    const account = await register(t);
    const res = await gql(
      t.url,
      ME,
      {},
      { headers: { authorization: `bEaReR ${account.accessToken}` } },
    );
    expect(res.data!.me.id).toBe(account.id);
  });

  it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Token abc', 'Bearer a b', ''])(
    'refuses %p as an invalid token',
    async (header) => {
      await expectRefused(header);
    },
  );

  it('refuses a token for a deleted user', async () => {
    const account = await register(t);
    const { UserModel } = await import('../../src/users/user.model');
    await UserModel.deleteOne({ _id: account.id });
    await expectRefused(`Bearer ${account.accessToken}`);
  });
});
