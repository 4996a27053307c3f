import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gql } from '../helpers/graphql';
import { login, register } from '../helpers/operations';
import { type ApiProcess, startApiProcess } from '../helpers/process';

const ROOT = join(__dirname, '..', '..');

/**
 * `npm start` / `npm run dev` without MONGODB_URI and without JWT_SECRET, as a developer runs
 * it: the embedded database on EMBEDDED_DB_PATH and the generated secret must both survive a
 * restart. Runs the API's real entry point twice on the same directory.
 */
describe('development restart (EMBEDDED_DB_PATH)', () => {
  let dataDir: string;
  let api: ApiProcess | undefined;
  const start = () =>
    startApiProcess({
      NODE_ENV: 'development',
      EMBEDDED_DB_PATH: join(dataDir, 'db'),
      LOG_LEVEL: 'info',
    });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'api-restart-'));
    // The API loads the embedded server's package by name, which resolves to its build.
    await promisify(execFile)('npm', ['run', '-s', 'build:db'], { cwd: ROOT });
  }, 180_000);
  afterAll(async () => {
    await api?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps accounts, and tokens issued before the restart stay valid', async () => {
    api = await start();
    const user = await register(api);
    const me = '{ me { id email } }';
    expect((await gql(api.url, me, undefined, { token: user.accessToken })).data?.me).toEqual({
      id: user.id,
      email: user.email,
    });
    expect(await api.stop()).toBe(0);

    const secretFile = join(dataDir, 'db', 'dev-jwt-secret');
    if (process.platform !== 'win32') expect(statSync(secretFile).mode & 0o777).toBe(0o600);

    api = await start();
    const again = await gql(api.url, me, undefined, { token: user.accessToken });
    expect(again.errors).toBeUndefined();
    expect(again.data?.me).toEqual({ id: user.id, email: user.email });
    const signedIn = await login(api, user.email, user.password);
    expect(signedIn.errors).toBeUndefined();
    expect(signedIn.data?.login.user.id).toBe(user.id);
    expect(await api.stop()).toBe(0);
    api = undefined;
  }, 180_000);
});
