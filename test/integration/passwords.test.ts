import * as argon2 from 'argon2';
import { UserModel } from '../../src/users/user.model';
import { Role } from '../../src/users/role';
import { useTestApp } from '../helpers/app';
import { REGISTER, login, register, uniqueEmail } from '../helpers/operations';
import { codeOf, gql } from '../helpers/graphql';

// Stronger than the parameters existing hashes were made with.
const t = useTestApp({ ARGON2_TIME_COST: '3' });

const paramsOf = (hash: string) => hash.split('$')[3]!.split(',').sort();

describe('password hashes', () => {
  it('made with older parameters are re-hashed at the next successful login, not before', async () => {
    const email = uniqueEmail('legacy');
    const oldHash = await argon2.hash('legacy password', {
      type: argon2.argon2id,
      memoryCost: 19456,
      timeCost: 2,
      parallelism: 1,
    });
    await UserModel.create({ email, name: 'Legacy', role: Role.CUSTOMER, passwordHash: oldHash });

    expect(codeOf(await login(t, email, 'wrong password'))).toBe('UNAUTHENTICATED');
    expect((await UserModel.findOne({ email }).select('+passwordHash').lean())!.passwordHash).toBe(
      oldHash,
    );

    expect((await login(t, email, 'legacy password')).data!.login.user.email).toBe(email);
    const rehashed = (await UserModel.findOne({ email }).select('+passwordHash').lean())!
      .passwordHash;
    expect(rehashed).not.toBe(oldHash);
    expect(paramsOf(rehashed)).toEqual(['m=19456', 'p=1', 't=3']);
    // Same password, new hash: signing in still works, and sessions were not ended.
    expect((await login(t, email, 'legacy password')).data!.login).toBeTruthy();
  });

  it('are made with the configured parameters for new accounts', async () => {
    const account = await register(t);
    const stored = (await UserModel.findById(account.id).select('+passwordHash').lean())!
      .passwordHash;
    expect(paramsOf(stored)).toEqual(['m=19456', 'p=1', 't=3']);
  });
});

describe('canonical emails', () => {
  it('one account per address however it is spelled (case, spaces, full-width forms)', async () => {
    const local = `same-${Date.now()}`;
    const account = await register(t, { email: `${local}@example.com` });
    const fullWidth = [...`${local.toUpperCase()}@EXAMPLE.COM`]
      .map((c) => (c >= '!' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c))
      .join('');
    for (const variant of [` ${local.toUpperCase()}@Example.com `, fullWidth]) {
      const res = await gql(t.url, REGISTER, {
        input: { email: variant, password: 'duplicate attempt passphrase', name: 'Dup' },
      });
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
      expect((await login(t, variant, account.password)).data!.login.user.id).toBe(account.id);
    }
    expect(await UserModel.countDocuments({ email: `${local}@example.com` })).toBe(1);
  });

  it('refuses look-alike letters (dotless ı, Cyrillic а) instead of creating a twin', async () => {
    const before = await UserModel.countDocuments();
    for (const email of ['admın@example.com', 'аdmin@example.com', 'admİn@example.com']) {
      const res = await gql(t.url, REGISTER, {
        input: { email, password: 'duplicate attempt passphrase', name: 'Twin' },
      });
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
    }
    expect(await UserModel.countDocuments()).toBe(before);
  });
});
