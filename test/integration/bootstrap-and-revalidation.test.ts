import pino from 'pino';
import { UserModel } from '../../src/users/user.model';
import { DEFAULT_DEV_ADMIN_EMAIL, bootstrapAdmin } from '../../src/users/admin-bootstrap';
import { loadConfig } from '../../src/config';
import { useTestApp } from '../helpers/app';
import { LOGOUT_ALL, ME, login, register } from '../helpers/operations';
import { gql } from '../helpers/graphql';

const silent = pino({ level: 'silent' });

describe('admin bootstrap', () => {
  const t = useTestApp();

  it('creates the ADMIN_EMAIL admin once, however many times (and instances) start', async () => {
    const config = loadConfig({
      JWT_SECRET: 'z'.repeat(32),
      ADMIN_EMAIL: ' Boss@Example.com ',
      ADMIN_PASSWORD: 'boss password 1',
    });
    await Promise.all([1, 2, 3].map(() => bootstrapAdmin(config, t.app.services, silent)));
    await bootstrapAdmin(config, t.app.services, silent);
    const admins = await UserModel.find({ email: 'boss@example.com' }).lean();
    expect(admins).toHaveLength(1);
    expect(admins[0]!.role).toBe('admin');
    const res = await login(t, 'boss@example.com', 'boss password 1');
    expect(res.data!.login.user.role).toBe('ADMIN');
  });

  it('never promotes an existing customer who registered that address first', async () => {
    const squatter = await register(t, { email: 'ceo@example.com' });
    const config = loadConfig({
      JWT_SECRET: 'z'.repeat(32),
      ADMIN_EMAIL: 'ceo@example.com',
      ADMIN_PASSWORD: 'ceo password 12',
    });
    await bootstrapAdmin(config, t.app.services, silent);
    expect((await UserModel.findById(squatter.id).lean())!.role).toBe('customer');
  });

  it('creates a default admin in development when none is configured', async () => {
    const config = loadConfig({ NODE_ENV: 'development', JWT_SECRET: 'z'.repeat(32) });
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await bootstrapAdmin(config, t.app.services, silent);
      await bootstrapAdmin(config, t.app.services, silent);
      const printed = write.mock.calls.map((call) => String(call[0])).join('');
      const password = /password: (\S+)/.exec(printed)![1]!;
      expect(printed.match(/Development admin/g)).toHaveLength(1);
      const res = await login(t, DEFAULT_DEV_ADMIN_EMAIL, password);
      expect(res.data!.login.user.role).toBe('ADMIN');
    } finally {
      write.mockRestore();
    }
  });
});

describe('AUTH_REVALIDATE_SECONDS', () => {
  const t = useTestApp({ AUTH_REVALIDATE_SECONDS: '1' });

  it('bounds how long an access token outlives logoutAll made on another instance', async () => {
    const account = await register(t);
    expect((await gql(t.url, ME, {}, { token: account.accessToken })).status).toBe(200);
    // Another instance bumps the credential version: this instance still has the caller cached.
    await UserModel.updateOne({ _id: account.id }, { $inc: { credentialVersion: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const res = await gql(t.url, ME, {}, { token: account.accessToken });
    expect(res.status).toBe(401);
    expect(res.errors![0]!.extensions!.reason).toBe('INVALID_TOKEN');
  });

  it('this instance ends its own revoked tokens at once, without waiting', async () => {
    const account = await register(t);
    expect((await gql(t.url, ME, {}, { token: account.accessToken })).status).toBe(200);
    await gql(t.url, LOGOUT_ALL, {}, { token: account.accessToken });
    expect((await gql(t.url, ME, {}, { token: account.accessToken })).status).toBe(401);
  });
});
