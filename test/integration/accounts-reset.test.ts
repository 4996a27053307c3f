import { AccountTokenModel } from '../../src/accounts/account-token.model';
import { AuditEventModel } from '../../src/audit/audit.model';
import {
  CHANGE_EMAIL,
  ME_VERIFIED,
  PASSPHRASE,
  REQUEST_RESET,
  follow,
  outboxSettled,
  useMailApp,
} from '../helpers/accounts';
import { AUTH_FIELDS, login, register, uniqueEmail } from '../helpers/operations';
import { codeOf, gql } from '../helpers/graphql';

const m = useMailApp();

const REFRESH = `mutation ($t: String) { refreshToken(refreshToken: $t) { ${AUTH_FIELDS} } }`;
const requestReset = (email: string) => gql(m.t.url, REQUEST_RESET, { email });

/** A signed-up account whose registration mail has been read. */
async function account() {
  const signedUp = await register(m.t);
  await m.smtp.takeMail(signedUp.email);
  return signedUp;
}

describe('password reset', () => {
  it('sets the new password and ends every earlier session and access token at once', async () => {
    const user = await account();
    const phone = (await login(m.t, user.email, user.password)).data!.login;
    const laptop = (await login(m.t, user.email, user.password)).data!.login;

    expect((await requestReset(user.email)).data).toEqual({ requestPasswordReset: true });
    const mail = await m.smtp.takeMail(user.email);
    expect(mail).toMatchObject({ subject: 'Reset your password', page: 'reset-password' });

    const newPassword = 'a freshly reset passphrase';
    expect((await follow(m.t, mail, newPassword)).data).toEqual({ resetPassword: true });

    expect(codeOf(await login(m.t, user.email, user.password))).toBe('UNAUTHENTICATED');
    const after = (await login(m.t, user.email, newPassword)).data!.login;
    expect(after.user.email).toBe(user.email);
    for (const refreshToken of [user.refreshToken, phone.refreshToken, laptop.refreshToken]) {
      expect(codeOf(await gql(m.t.url, REFRESH, { t: refreshToken }))).toBe('UNAUTHENTICATED');
    }
    // AUTH_REVALIDATE_SECONDS is 0 in the test app: the bound is "at once".
    for (const accessToken of [user.accessToken, phone.accessToken]) {
      expect((await gql(m.t.url, ME_VERIFIED, {}, { token: accessToken })).status).toBe(401);
    }
    // The link proved the mailbox: the address counts as verified now.
    const me = await gql(m.t.url, ME_VERIFIED, {}, { token: after.accessToken });
    expect(me.data!.me.emailVerified).toBe(true);
    expect(await AuditEventModel.countDocuments({ userId: user.id, type: 'PASSWORD_RESET' })).toBe(
      1,
    );
    // Used once only.
    expect((await follow(m.t, mail, 'yet another passphrase here')).errors![0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'token' },
    });
  });

  it('refuses a weak new password without spending the link', async () => {
    const user = await account();
    await requestReset(user.email);
    const mail = await m.smtp.takeMail(user.email);
    const weak = await follow(m.t, mail, 'password');
    expect(weak.errors![0]!.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'newPassword',
    });
    expect((await follow(m.t, mail, 'the second try is strong')).data).toEqual({
      resetPassword: true,
    });
  });

  it('a newer reset link ends the older one, and a password change ends both', async () => {
    const user = await account();
    await requestReset(user.email);
    const first = await m.smtp.takeMail(user.email);
    await requestReset(user.email);
    const second = await m.smtp.takeMail(user.email);
    expect(codeOf(await follow(m.t, first))).toBe('BAD_USER_INPUT');

    await gql(
      m.t.url,
      'mutation ($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }',
      { c: user.password, n: 'changed my mind entirely' },
      { token: user.accessToken },
    );
    expect(codeOf(await follow(m.t, second))).toBe('BAD_USER_INPUT');
    expect(await AccountTokenModel.countDocuments({ user: user.id })).toBe(0);
  });

  it('answers known and unknown addresses byte for byte alike, and mails only the known one', async () => {
    const user = await account();
    const unknown = uniqueEmail('nobody');
    const forUnknown = await requestReset(unknown);
    const forKnown = await requestReset(user.email);
    expect(forKnown.status).toBe(forUnknown.status);
    expect(forKnown.text).toBe(forUnknown.text);

    await m.smtp.takeMail(user.email);
    await outboxSettled(m.t);
    expect(m.smtp.untaken(unknown)).toEqual([]);
    expect(m.smtp.received.some((mail) => mail.to.includes(unknown))).toBe(false);
    const audited = await AuditEventModel.find({ type: 'PASSWORD_RESET_REQUESTED' }).lean();
    expect(audited.map((event) => event.details)).toEqual(
      expect.arrayContaining([expect.objectContaining({ known: false })]),
    );
  });

  it('refuses a malformed address the same way whether or not anyone has it', async () => {
    const res = await requestReset('not an address');
    expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
  });
});

describe('account pre-hijacking', () => {
  it("ends an attacker's session on an unverified account when the owner resets", async () => {
    const victim = uniqueEmail('victim');
    // The attacker registers the victim's address first and keeps a session.
    const attacker = await register(m.t, { email: victim, password: 'attacker knows this one' });
    await m.smtp.takeMail(victim); // lands in the victim's mailbox; the attacker cannot read it
    const attackerRefresh = (await gql(m.t.url, REFRESH, { t: attacker.refreshToken })).data!
      .refreshToken;

    // The owner tries to sign up, learns the account exists, and resets from the mail.
    await gql(m.t.url, 'mutation ($i: RegisterInput!) { signUp(input: $i) }', {
      i: { email: victim, password: 'the real owner passphrase', name: 'Owner' },
    });
    const mail = await m.smtp.takeMail(victim);
    expect(mail.subject).toBe('You already have an account');
    expect((await follow(m.t, mail, 'the real owner passphrase')).data).toEqual({
      resetPassword: true,
    });

    expect(codeOf(await gql(m.t.url, REFRESH, { t: attackerRefresh.refreshToken }))).toBe(
      'UNAUTHENTICATED',
    );
    expect(
      (await gql(m.t.url, ME_VERIFIED, {}, { token: attackerRefresh.accessToken })).status,
    ).toBe(401);
    expect(codeOf(await login(m.t, victim, 'attacker knows this one'))).toBe('UNAUTHENTICATED');
    const owner = (await login(m.t, victim, 'the real owner passphrase')).data!.login;
    const me = await gql(m.t.url, ME_VERIFIED, {}, { token: owner.accessToken });
    expect(me.data!.me).toMatchObject({ email: victim, emailVerified: true });
  });

  it("also stops an attacker's pending email change", async () => {
    const victim = uniqueEmail('victim');
    const attacker = await register(m.t, { email: victim, password: 'attacker knows this one' });
    await m.smtp.takeMail(victim);
    const elsewhere = uniqueEmail('attacker');
    await gql(
      m.t.url,
      CHANGE_EMAIL,
      { email: elsewhere, password: 'attacker knows this one' },
      { token: attacker.accessToken },
    );
    const confirmation = await m.smtp.takeMail(elsewhere);
    const notice = await m.smtp.takeMail(victim);
    expect(notice.subject).toBe('Your email address is being changed');

    expect((await follow(m.t, notice, PASSPHRASE)).data).toEqual({ resetPassword: true });
    expect(codeOf(await follow(m.t, confirmation))).toBe('BAD_USER_INPUT');
    expect((await login(m.t, victim, PASSPHRASE)).data!.login.user.email).toBe(victim);
  });
});
