import { AccountTokenModel } from '../../src/accounts/account-token.model';
import { AuditEventModel } from '../../src/audit/audit.model';
import { UserModel } from '../../src/users/user.model';
import {
  APP_URL,
  ME_VERIFIED,
  PASSPHRASE,
  RESEND,
  SIGN_UP,
  follow,
  signUp,
  useMailApp,
} from '../helpers/accounts';
import { AUTH_FIELDS, login, register, uniqueEmail } from '../helpers/operations';
import { codeOf, gql } from '../helpers/graphql';

const m = useMailApp();

const REGISTER = `mutation ($input: RegisterInput!) { register(input: $input) { ${AUTH_FIELDS} } }`;

describe('signUp and verification', () => {
  it('creates an unverified account, mails a link that verifies it, and the link works once', async () => {
    const email = uniqueEmail('new');
    const res = await signUp(m.t, { email, name: 'Nora New' });
    expect(res.data).toEqual({ signUp: true });

    const mail = await m.smtp.takeMail(email);
    expect(mail.from).toBe('accounts@example.com');
    expect(mail.subject).toBe('Confirm your email address');
    expect(mail.page).toBe('verify-email');
    expect(mail.text).toContain('Hello Nora New,');
    expect(mail.html).toContain(`href="${mail.link}"`);
    expect(mail.token.length).toBeGreaterThanOrEqual(22); // ≥ 128 bits in base64url

    // Stored only as a hash.
    const stored = await AccountTokenModel.find({}).lean();
    expect(JSON.stringify(stored)).not.toContain(mail.token);

    const signedIn = (await login(m.t, email, PASSPHRASE)).data!.login;
    const before = await gql(m.t.url, ME_VERIFIED, {}, { token: signedIn.accessToken });
    expect(before.data!.me).toMatchObject({ email, emailVerified: false });

    expect((await follow(m.t, mail)).data).toEqual({ verifyEmail: true });
    const after = await gql(m.t.url, ME_VERIFIED, {}, { token: signedIn.accessToken });
    expect(after.data!.me.emailVerified).toBe(true);

    const again = await follow(m.t, mail);
    expect(again.errors![0]).toMatchObject({
      message: 'This link is invalid or has expired',
      extensions: { code: 'BAD_USER_INPUT', field: 'token' },
    });
    expect(
      await AuditEventModel.countDocuments({ userId: signedIn.user.id, type: 'EMAIL_VERIFIED' }),
    ).toBe(1);
  });

  it('answers a taken address byte for byte as a new one, and mails its owner a reset link', async () => {
    const owner = await register(m.t);
    await m.smtp.takeMail(owner.email); // register's own verification mail
    const fresh = uniqueEmail('fresh');
    const forNew = await signUp(m.t, { email: fresh, password: 'another fine passphrase' });
    const forTaken = await signUp(m.t, {
      email: owner.email.toUpperCase(),
      password: 'another fine passphrase',
    });
    expect(forTaken.status).toBe(forNew.status);
    expect(forTaken.text).toBe(forNew.text);

    const notice = await m.smtp.takeMail(owner.email);
    expect(notice.subject).toBe('You already have an account');
    expect(notice.page).toBe('reset-password');
    // The account is left as it was: the old password still works.
    expect((await login(m.t, owner.email, owner.password)).data!.login).toBeTruthy();
    expect(await UserModel.countDocuments({ email: owner.email })).toBe(1);
    // And the reset link in the notice works.
    expect((await follow(m.t, notice, 'a passphrase from the notice')).data).toEqual({
      resetPassword: true,
    });
    expect(
      (await login(m.t, owner.email, 'a passphrase from the notice')).data!.login,
    ).toBeTruthy();
    await m.smtp.takeMail(fresh);
  });

  it('register (optional verification) signs in at once, unverified, and mails a link', async () => {
    const account = await register(m.t);
    const me = await gql(m.t.url, ME_VERIFIED, {}, { token: account.accessToken });
    expect(me.data!.me.emailVerified).toBe(false);
    const mail = await m.smtp.takeMail(account.email);
    expect(mail.link).toMatch(new RegExp(`^${APP_URL}/verify-email\\?token=`));
    expect((await follow(m.t, mail)).data).toEqual({ verifyEmail: true });
  });

  it('resendVerificationEmail mails a new link and ends the older one', async () => {
    const account = await register(m.t);
    const first = await m.smtp.takeMail(account.email);
    const res = await gql(m.t.url, RESEND, {}, { token: account.accessToken });
    expect(res.data).toEqual({ resendVerificationEmail: true });
    const second = await m.smtp.takeMail(account.email);
    expect(second.token).not.toBe(first.token);

    expect(codeOf(await follow(m.t, first))).toBe('BAD_USER_INPUT');
    expect((await follow(m.t, second)).data).toEqual({ verifyEmail: true });

    const verified = await gql(m.t.url, RESEND, {}, { token: account.accessToken });
    expect(verified.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(codeOf(await gql(m.t.url, RESEND))).toBe('UNAUTHENTICATED');
  });

  it('refuses a forged token with the same answer as a used one', async () => {
    for (const token of ['', 'forged', 'A'.repeat(43), `${'x'.repeat(42)}=`]) {
      const res = await gql(m.t.url, 'mutation ($t: String!) { verifyEmail(token: $t) }', {
        t: token,
      });
      expect(res.errors![0]).toMatchObject({
        message: 'This link is invalid or has expired',
        extensions: { code: 'BAD_USER_INPUT', field: 'token' },
      });
    }
  });
});

describe('the password rule', () => {
  const email = 'jane.doe@example.com';
  const weak = ['password', '12345678', 'qwertyuiop', email, 'jane.doe123', 'janedoe123'];

  it.each(weak)('refuses %p at register and signUp, saying why', async (password) => {
    for (const [query, name] of [
      [REGISTER, 'register'],
      [SIGN_UP, 'signUp'],
    ] as const) {
      const res = await gql(m.t.url, query, { input: { email, password, name: 'Jane Doe' } });
      expect(res.errors![0]!.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'password',
      });
      expect(res.errors![0]!.message).toMatch(/^Password is too easy to guess\. \S/);
      expect(res.data?.[name] ?? null).toBeNull();
    }
    expect(await UserModel.countDocuments({ email })).toBe(0);
  });

  it('accepts a passphrase', async () => {
    const res = await signUp(m.t, { email: uniqueEmail('phrase'), password: PASSPHRASE });
    expect(res.data).toEqual({ signUp: true });
  });

  it('refuses a weak new password at changePassword, naming newPassword', async () => {
    const account = await register(m.t);
    const res = await gql(
      m.t.url,
      'mutation ($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }',
      { c: account.password, n: 'qwertyuiop' },
      { token: account.accessToken },
    );
    expect(res.errors![0]!.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'newPassword',
    });
  });
});
