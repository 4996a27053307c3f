import { AuditEventModel } from '../../src/audit/audit.model';
import { CHANGE_EMAIL, ME_VERIFIED, follow, useMailApp } from '../helpers/accounts';
import { AUTH_FIELDS, login, register, uniqueEmail } from '../helpers/operations';
import { codeOf, gql } from '../helpers/graphql';

const m = useMailApp();

const REFRESH = `mutation ($t: String) { refreshToken(refreshToken: $t) { ${AUTH_FIELDS} } }`;

async function account() {
  const signedUp = await register(m.t);
  await m.smtp.takeMail(signedUp.email);
  return signedUp;
}

const changeEmail = (token: string, email: string, password: string) =>
  gql(m.t.url, CHANGE_EMAIL, { email, password }, { token });

describe('email change', () => {
  it('changes the login only once the new address confirms, noticing the old one', async () => {
    const user = await account();
    const newEmail = uniqueEmail('moved');
    expect((await changeEmail(user.accessToken, newEmail, user.password)).data).toEqual({
      changeEmail: true,
    });

    const confirmation = await m.smtp.takeMail(newEmail);
    expect(confirmation).toMatchObject({
      subject: 'Confirm your new email address',
      page: 'confirm-email-change',
    });
    const notice = await m.smtp.takeMail(user.email);
    expect(notice.subject).toBe('Your email address is being changed');
    expect(notice.text).toContain(`${newEmail.slice(0, 1)}***@example.com`);
    expect(notice.page).toBe('reset-password');

    // Nothing changed yet.
    expect((await login(m.t, user.email, user.password)).data!.login).toBeTruthy();
    expect(codeOf(await login(m.t, newEmail, user.password))).toBe('UNAUTHENTICATED');

    expect((await follow(m.t, confirmation)).data).toEqual({ verifyEmail: true });
    expect(codeOf(await login(m.t, user.email, user.password))).toBe('UNAUTHENTICATED');
    const after = (await login(m.t, newEmail, user.password)).data!.login;
    const me = await gql(m.t.url, ME_VERIFIED, {}, { token: after.accessToken });
    expect(me.data!.me).toMatchObject({ id: user.id, email: newEmail, emailVerified: true });

    // A credential event: earlier sessions and access tokens end.
    expect(codeOf(await gql(m.t.url, REFRESH, { t: user.refreshToken }))).toBe('UNAUTHENTICATED');
    expect((await gql(m.t.url, ME_VERIFIED, {}, { token: user.accessToken })).status).toBe(401);
    // And the notice's reset link died with the change.
    expect(codeOf(await follow(m.t, notice))).toBe('BAD_USER_INPUT');
    expect(await AuditEventModel.countDocuments({ userId: user.id, type: 'EMAIL_CHANGED' })).toBe(
      1,
    );
    expect(codeOf(await follow(m.t, confirmation))).toBe('BAD_USER_INPUT');
  });

  it('refuses a wrong current password and changes nothing', async () => {
    const user = await account();
    const newEmail = uniqueEmail('nope');
    const res = await changeEmail(user.accessToken, newEmail, 'not my password at all');
    expect(codeOf(res)).toBe('UNAUTHENTICATED');
    expect((await login(m.t, user.email, user.password)).data!.login).toBeTruthy();
    expect(
      await AuditEventModel.countDocuments({ userId: user.id, type: 'EMAIL_CHANGE_REQUESTED' }),
    ).toBe(0);
  });

  it('refuses a malformed or unchanged address, and an anonymous caller', async () => {
    const user = await account();
    for (const email of ['not-an-address', user.email.toUpperCase()]) {
      const res = await changeEmail(user.accessToken, email, user.password);
      expect(res.errors![0]!.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'newEmail',
      });
    }
    const anonymous = await gql(m.t.url, CHANGE_EMAIL, {
      email: uniqueEmail(),
      password: user.password,
    });
    expect(codeOf(anonymous)).toBe('UNAUTHENTICATED');
  });

  it('refuses the confirmation when the address belongs to another account by then', async () => {
    const user = await account();
    const contested = uniqueEmail('contested');
    await changeEmail(user.accessToken, contested, user.password);
    const confirmation = await m.smtp.takeMail(contested);
    await m.smtp.takeMail(user.email);

    const other = await register(m.t, { email: contested });
    const res = await follow(m.t, confirmation);
    expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token' });
    expect((await login(m.t, user.email, user.password)).data!.login.user.id).toBe(user.id);
    expect((await login(m.t, contested, other.password)).data!.login.user.id).toBe(other.id);
  });
});
