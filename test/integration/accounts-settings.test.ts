import { randomBytes } from 'node:crypto';
import { AccountTokenModel } from '../../src/accounts/account-token.model';
import { UserModel } from '../../src/users/user.model';
import {
  APP_URL,
  type MailApp,
  ME_VERIFIED,
  PASSPHRASE,
  RESEND,
  follow,
  logLine,
  signUp,
  startMailApp,
} from '../helpers/accounts';
import { type TestApp, productionEnv, startTestApp } from '../helpers/app';
import { AUTH_FIELDS, login, register, uniqueEmail } from '../helpers/operations';
import { codeOf, gql } from '../helpers/graphql';
import { startTestDatabase } from '../helpers/database';
import { startApiProcess, uriWithDatabase } from '../helpers/process';
import { closedPort, startTestSmtp } from '../helpers/smtp';

/** Settings that need an app of their own, one after the other. */

const REGISTER = `mutation ($input: RegisterInput!) { register(input: $input) { ${AUTH_FIELDS} } }`;
const givingUp = (line: Record<string, unknown>) => line.msg === 'mail not delivered: giving up';

describe('expired links', () => {
  let short: MailApp;
  beforeAll(async () => {
    short = await startMailApp({ EMAIL_TOKEN_TTL: '1', PASSWORD_RESET_TTL: '1' });
  });
  afterAll(async () => {
    await short.stop();
  });

  it('answers an expired verification or reset link like an unknown one', async () => {
    const email = uniqueEmail('late');
    await signUp(short.t, { email });
    const verification = await short.smtp.takeMail(email);
    await gql(short.t.url, 'mutation ($e: String!) { requestPasswordReset(email: $e) }', {
      e: email,
    });
    const reset = await short.smtp.takeMail(email);
    // Both tokens live one second; wait until the later one has certainly expired.
    const expiries = await AccountTokenModel.find({}).lean();
    const latest = Math.max(...expiries.map((token) => token.expiresAt.getTime()));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, latest - Date.now()) + 50));

    for (const res of [await follow(short.t, verification), await follow(short.t, reset)]) {
      expect(res.errors![0]).toMatchObject({
        message: 'This link is invalid or has expired',
        extensions: { code: 'BAD_USER_INPUT', field: 'token' },
      });
    }
    expect((await login(short.t, email, PASSPHRASE)).data!.login.user.email).toBe(email);
  });
});

describe('EMAIL_VERIFICATION=required', () => {
  let m: MailApp;
  beforeAll(async () => {
    m = await startMailApp({ EMAIL_VERIFICATION: 'required', LOGIN_MAX_FAILURES: '3' });
  });
  afterAll(async () => {
    await m.stop();
  });

  it('register creates nothing and answers EMAIL_NOT_VERIFIED', async () => {
    const email = uniqueEmail('required');
    const res = await gql(m.t.url, REGISTER, {
      input: { email, password: PASSPHRASE, name: 'Rita' },
    });
    expect(res.status).toBe(200);
    expect(codeOf(res)).toBe('EMAIL_NOT_VERIFIED');
    expect(res.data).toBeNull();
    expect(await UserModel.countDocuments({ email })).toBe(0);
  });

  it('login answers EMAIL_NOT_VERIFIED only to the right password, until the link is followed', async () => {
    const email = uniqueEmail('pending');
    await signUp(m.t, { email });
    const mail = await m.smtp.takeMail(email);

    expect(codeOf(await login(m.t, email, 'not the right one, sorry'))).toBe('UNAUTHENTICATED');
    const refused = await login(m.t, email, PASSPHRASE);
    expect(refused.status).toBe(200);
    expect(codeOf(refused)).toBe('EMAIL_NOT_VERIFIED');
    expect(refused.data).toBeNull();

    expect((await follow(m.t, mail)).data).toEqual({ verifyEmail: true });
    const signedIn = (await login(m.t, email, PASSPHRASE)).data!.login;
    const me = await gql(m.t.url, ME_VERIFIED, {}, { token: signedIn.accessToken });
    expect(me.data!.me).toMatchObject({ email, emailVerified: true });
  });

  it('keeps the normal throttling in front of the verification answer', async () => {
    const email = uniqueEmail('throttled');
    await signUp(m.t, { email });
    await m.smtp.takeMail(email);
    for (let i = 0; i < 3; i++) {
      expect(codeOf(await login(m.t, email, `wrong guess number ${i}`))).toBe('UNAUTHENTICATED');
    }
    expect(codeOf(await login(m.t, email, PASSPHRASE))).toBe('TOO_MANY_REQUESTS');
  });
});

describe('a failing SMTP server', () => {
  it('connection refused (production): no 500, account and token kept, failure logged without the link', async () => {
    const port = await closedPort();
    const t: TestApp = await startTestApp({
      ...productionEnv(),
      SMTP_URL: `smtp://mailer:secret@127.0.0.1:${port}`,
      MAIL_SEND_ATTEMPTS: '3',
      MAIL_RETRY_DELAY_MS: '20',
    });
    try {
      const email = uniqueEmail('unlucky');
      const res = await signUp(t, { email });
      expect(res.status).toBe(200);
      expect(res.data).toEqual({ signUp: true });
      const failure = await logLine(t, givingUp);
      expect(failure).toMatchObject({ level: 50, mailKind: 'verify-email', attempts: 3 });
      expect(String(failure.code ?? failure.error)).toMatch(/ECONNREFUSED|ESOCKET|refused/i);
      expect(t.logs.filter((line) => line.msg === 'mail send failed; will retry')).toHaveLength(2);

      const user = await UserModel.findOne({ email }).lean();
      expect(user).not.toBeNull();
      expect(await AccountTokenModel.countDocuments({ user: user!._id })).toBe(1);

      const reset = await gql(t.url, 'mutation ($e: String!) { requestPasswordReset(email: $e) }', {
        e: email,
      });
      expect(reset.data).toEqual({ requestPasswordReset: true });
      await logLine(t, (line) => givingUp(line) && line.mailKind === 'reset-password');
      expect(await AccountTokenModel.countDocuments({ user: user!._id })).toBe(2);

      const everything = JSON.stringify(t.logs);
      expect(everything).not.toContain('token=');
      expect(everything).not.toContain('https://app.example.com/');
    } finally {
      await t.stop();
    }
  });

  it('5xx answers: no 500, nothing lost; a resend goes through once the server recovers', async () => {
    const m = await startMailApp({ MAIL_SEND_ATTEMPTS: '2' });
    try {
      m.smtp.refuseWith(550);
      const email = uniqueEmail('bounced');
      expect((await signUp(m.t, { email })).data).toEqual({ signUp: true });
      const failure = await logLine(m.t, givingUp);
      expect(failure).toMatchObject({ mailKind: 'verify-email', attempts: 2, responseCode: 550 });
      expect(m.smtp.received).toHaveLength(0);
      expect(await UserModel.countDocuments({ email })).toBe(1);

      m.smtp.refuseWith(undefined);
      const signedIn = (await login(m.t, email, PASSPHRASE)).data!.login;
      const resend = await gql(m.t.url, RESEND, {}, { token: signedIn.accessToken });
      expect(resend.data).toEqual({ resendVerificationEmail: true });
      expect((await follow(m.t, await m.smtp.takeMail(email))).data).toEqual({
        verifyEmail: true,
      });
    } finally {
      await m.stop();
    }
  });
});

describe('development without SMTP_URL', () => {
  it('logs each mail with its link, which a developer can follow', async () => {
    const t = await startTestApp({ NODE_ENV: 'development', APP_URL });
    try {
      const account = await register(t);
      const line = await logLine(t, (entry) => typeof entry.mail === 'object');
      const mail = line.mail as { to: string; subject: string; link: string };
      expect(mail).toMatchObject({ to: account.email, subject: 'Confirm your email address' });
      const token = new URL(mail.link).searchParams.get('token')!;
      expect(mail.link).toBe(`${APP_URL}/verify-email?token=${token}`);
      const res = await gql(t.url, 'mutation ($t: String!) { verifyEmail(token: $t) }', {
        t: token,
      });
      expect(res.data).toEqual({ verifyEmail: true });
    } finally {
      await t.stop();
    }
  });
});

describe('shutdown', () => {
  it('lets a mail waiting for its retry go out before the process exits', async () => {
    const db = await startTestDatabase();
    const smtp = await startTestSmtp();
    const api = await startApiProcess({
      MONGODB_URI: uriWithDatabase(db.uri, db.dbName),
      JWT_SECRET: randomBytes(32).toString('hex'),
      SMTP_URL: smtp.url,
      MAIL_RETRY_DELAY_MS: '1500',
    });
    try {
      smtp.refuseWith(451);
      const email = uniqueEmail('last');
      expect((await signUp(api, { email })).data).toEqual({ signUp: true });
      const retrying = (attempt: number) => (line: Record<string, unknown>) =>
        line.msg === 'mail send failed; will retry' && line.attempt === attempt;
      await logLine(api, retrying(1));
      // SIGTERM during the backoff: the queue keeps its retry schedule while it drains
      // (within SHUTDOWN_TIMEOUT) instead of giving up.
      api.child.kill('SIGTERM');
      await logLine(api, retrying(2));
      smtp.refuseWith(undefined);
      expect(await api.exited).toBe(0);
      expect((await smtp.takeMail(email)).page).toBe('verify-email');
    } finally {
      await api.stop('SIGKILL');
      await smtp.stop();
      await db.stop();
    }
  });
});
