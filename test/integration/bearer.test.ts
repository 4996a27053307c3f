import jwt from 'jsonwebtoken';
import { TodoModel } from '../../src/todos/todo.model';
import { useTestApp } from '../helpers/app';
import { ME, PLANT_TODO, register } from '../helpers/operations';
import { expectTokenRefused, gql } from '../helpers/graphql';

const t = useTestApp();

/** Sends PLANT_TODO with a raw Authorization header and checks the request was refused whole. */
async function expectRefused(authorization: string, reason: 'INVALID_TOKEN' | 'TOKEN_EXPIRED') {
  const before = await TodoModel.countDocuments();
  expectTokenRefused(await gql(t.url, PLANT_TODO, {}, { headers: { authorization } }), reason);
  expect(await TodoModel.countDocuments()).toBe(before);
}

function claimsOf(token: string) {
  return jwt.decode(token, { complete: true })!;
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
      await expectRefused(header, 'INVALID_TOKEN');
    },
  );

  it('refuses an expired access token with TOKEN_EXPIRED', async () => {
    const account = await register(t);
    const { header, payload } = claimsOf(account.accessToken) as {
      header: jwt.JwtHeader;
      payload: jwt.JwtPayload;
    };
    const expired = jwt.sign(
      { ...payload, iat: payload.iat! - 3600, exp: payload.iat! - 60 },
      t.config.jwt.secret!,
      {
        header: header as jwt.JwtHeader,
      },
    );
    await expectRefused(`Bearer ${expired}`, 'TOKEN_EXPIRED');
  });

  it('refuses a tampered token (payload changed, signature kept)', async () => {
    const account = await register(t);
    const [h, p, s] = account.accessToken.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const elevated = Buffer.from(JSON.stringify({ ...payload, role: 'admin' })).toString(
      'base64url',
    );
    await expectRefused(`Bearer ${h}.${elevated}.${s}`, 'INVALID_TOKEN');
  });

  it('refuses an alg:none token', async () => {
    const account = await register(t);
    const { header, payload } = claimsOf(account.accessToken);
    const none = Buffer.from(JSON.stringify({ ...header, alg: 'none' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    await expectRefused(`Bearer ${none}.${body}.`, 'INVALID_TOKEN');
  });

  it('refuses a refresh token sent as an access token', async () => {
    const account = await register(t);
    await expectRefused(`Bearer ${account.refreshToken}`, 'INVALID_TOKEN');
  });

  it('refuses a token for a deleted user', async () => {
    const account = await register(t);
    const { UserModel } = await import('../../src/users/user.model');
    await UserModel.deleteOne({ _id: account.id });
    await expectRefused(`Bearer ${account.accessToken}`, 'INVALID_TOKEN');
  });
});
