import { UserModel } from '../../src/users/user.model';
import { useTestApp } from '../helpers/app';
import {
  CHANGE_PASSWORD,
  ME,
  REGISTER,
  type SignedIn,
  login,
  register,
  uniqueEmail,
} from '../helpers/operations';
import { codeOf, gql } from '../helpers/graphql';
import { auditCount, databaseSnapshot } from './support';

/**
 * Password guessing: many guesses in one request (aliases, fragments), many requests (in a row
 * and at once), look-alike spellings of one email, another address in X-Forwarded-For, guesses
 * through changePassword; what the answers reveal about which accounts exist; oversized
 * passwords.
 */

const LOGIN_FIELD = (n: number, password = `guess number ${n}`) =>
  `g${n}: login(email: $email, password: "${password}") { accessToken }`;

const storedHash = async (id: string) =>
  (await UserModel.findById(id).select('+passwordHash').lean())!.passwordHash;

describe('per account (LOGIN_MAX_FAILURES=3)', () => {
  const t = useTestApp({ LOGIN_MAX_FAILURES: '3', LOGIN_MAX_FAILURES_PER_IP: '1000' });

  /** A request packing several password checks is refused whole: no password is tried. */
  async function expectNoGuessEvaluated(query: string, variables: Record<string, unknown>) {
    const checks = await auditCount(['LOGIN_FAILED', 'LOGIN_SUCCEEDED', 'LOGIN_THROTTLED']);
    const before = await databaseSnapshot();
    const res = await gql(t.url, query, variables);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.data).toBeUndefined();
    expect(await auditCount(['LOGIN_FAILED', 'LOGIN_SUCCEEDED', 'LOGIN_THROTTLED'])).toBe(checks);
    expect(await databaseSnapshot()).toEqual(before);
  }

  describe('several guesses in one request', () => {
    let victim: SignedIn;
    beforeAll(async () => {
      victim = await register(t);
    });
    afterEach(async () => {
      // None of these requests may have cost the victim a failed attempt.
      expect((await login(t, victim.email, victim.password)).data!.login).toBeTruthy();
    });

    it('15 aliased logins (the right password among them) are refused before any check', async () => {
      const fields = Array.from({ length: 14 }, (_, i) => LOGIN_FIELD(i));
      fields.push(LOGIN_FIELD(14, victim.password));
      await expectNoGuessEvaluated(`mutation ($email: String!) { ${fields.join(' ')} }`, {
        email: victim.email,
      });
    });

    it('two aliased logins hidden in a named fragment and a nested one are refused', async () => {
      await expectNoGuessEvaluated(
        `mutation ($email: String!) { ...A }
         fragment A on Mutation { ${LOGIN_FIELD(1)} ...B }
         fragment B on Mutation { ${LOGIN_FIELD(2)} }`,
        { email: victim.email },
      );
    });

    it('two aliased logins in inline fragments and behind @include are refused', async () => {
      await expectNoGuessEvaluated(
        `mutation ($email: String!) {
           ... on Mutation { ${LOGIN_FIELD(1)} }
           ... @include(if: true) { ${LOGIN_FIELD(2)} }
         }`,
        { email: victim.email },
      );
    });

    it('a login paired with a register or a refreshToken is refused and creates nothing', async () => {
      const email = uniqueEmail('pair');
      await expectNoGuessEvaluated(
        `mutation ($email: String!, $new: String!) {
           ${LOGIN_FIELD(1)}
           register(input: { email: $new, password: "long enough pw", name: "N" }) { accessToken }
         }`,
        { email: victim.email, new: email },
      );
      await expectNoGuessEvaluated(
        `mutation ($email: String!) { ${LOGIN_FIELD(1)} refreshToken(refreshToken: "x") { accessToken } }`,
        { email: victim.email },
      );
    });

    it('two aliased changePassword guesses are refused and the password stays', async () => {
      const hash = await storedHash(victim.id);
      const res = await gql(
        t.url,
        `mutation { a: changePassword(currentPassword: "guess one", newPassword: "stolen account 1") { accessToken }
                    b: changePassword(currentPassword: "${victim.password}", newPassword: "stolen account 2") { accessToken } }`,
        {},
        { token: victim.accessToken },
      );
      expect(res.status).toBe(400);
      expect(codeOf(res)).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(await storedHash(victim.id)).toBe(hash);
    });
  });

  it('ten guesses sent at once are evaluated at most three times; then even the right password is refused', async () => {
    const victim = await register(t);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => login(t, victim.email, `parallel guess ${i}`)),
    );
    expect(results.filter((r) => codeOf(r) === 'UNAUTHENTICATED')).toHaveLength(3);
    const throttled = results.filter((r) => codeOf(r) === 'TOO_MANY_REQUESTS');
    expect(throttled).toHaveLength(7);
    for (const res of throttled) {
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(res.data).toBeNull();
    }
    expect(await auditCount(['LOGIN_FAILED'], victim.id)).toBe(3);

    const sessionsBefore = await databaseSnapshot();
    const right = await login(t, victim.email, victim.password);
    expect(right.status).toBe(429);
    expect(codeOf(right)).toBe('TOO_MANY_REQUESTS');
    expect(right.text).not.toContain('accessToken');
    expect(await databaseSnapshot()).toEqual(sessionsBefore);
  });

  it('look-alike spellings of one email (case, spaces, full-width, Kelvin sign) share one counter', async () => {
    const victim = await register(t, { email: uniqueEmail('kate') });
    const fullWidth = victim.email.replace('kate', 'ｋａｔｅ');
    const kelvin = victim.email.replace('k', '\u212A');
    for (const spelling of [`  ${victim.email.toUpperCase()}  `, fullWidth, kelvin]) {
      const res = await login(t, spelling, 'wrong password');
      expect(res.status).toBe(200);
      expect(codeOf(res)).toBe('UNAUTHENTICATED');
    }
    const right = await login(t, victim.email, victim.password);
    expect(right.status).toBe(429);
    expect(codeOf(right)).toBe('TOO_MANY_REQUESTS');
  });

  it('guessing the current password through changePassword is throttled too, and changes nothing', async () => {
    const victim = await register(t);
    const hash = await storedHash(victim.id);
    for (let i = 0; i < 3; i += 1) {
      const res = await gql(
        t.url,
        CHANGE_PASSWORD,
        { current: `stolen token guess ${i}`, next: 'attacker password' },
        { token: victim.accessToken },
      );
      expect(codeOf(res)).toBe('UNAUTHENTICATED');
    }
    const before = await databaseSnapshot();
    const right = await gql(
      t.url,
      CHANGE_PASSWORD,
      { current: victim.password, next: 'attacker password' },
      { token: victim.accessToken },
    );
    expect(right.status).toBe(429);
    expect(codeOf(right)).toBe('TOO_MANY_REQUESTS');
    expect(await databaseSnapshot()).toEqual(before);
    expect(await storedHash(victim.id)).toBe(hash);
    expect((await gql(t.url, ME, {}, { token: victim.accessToken })).data!.me.id).toBe(victim.id);
  });

  describe('enumeration', () => {
    it('a wrong password and an unknown email (in any spelling) get byte-identical answers', async () => {
      const known = await register(t);
      const answers = await Promise.all([
        login(t, known.email, 'not the password'),
        login(t, ` ${known.email.toUpperCase()}`, 'not the password'),
        login(t, uniqueEmail('ghost'), 'not the password'),
        login(t, 'not even an email', 'not the password'),
      ]);
      for (const res of answers) {
        expect(res.status).toBe(200);
        expect(res.data).toBeNull();
        expect(res.errors).toHaveLength(1);
        expect(res.errors![0]).toMatchObject({
          message: 'Invalid email or password',
          extensions: { code: 'UNAUTHENTICATED' },
        });
        expect(res.text).toBe(answers[0]!.text);
      }
    });

    it('an unknown email is throttled after as many failures as a known one', async () => {
      const known = await register(t);
      const ghost = uniqueEmail('ghost');
      for (let i = 0; i < 3; i += 1) {
        await login(t, known.email, `wrong ${i}`);
        await login(t, ghost, `wrong ${i}`);
      }
      const [knownAnswer, ghostAnswer] = [
        await login(t, known.email, 'wrong again'),
        await login(t, ghost, 'wrong again'),
      ];
      for (const res of [knownAnswer, ghostAnswer]) {
        expect(res.status).toBe(429);
        expect(codeOf(res)).toBe('TOO_MANY_REQUESTS');
      }
      expect(knownAnswer.errors![0]!.message).toBe(ghostAnswer.errors![0]!.message);
    });

    it('an oversized password gets the same answer for a known and an unknown email', async () => {
      const known = await register(t);
      const huge = 'x'.repeat(257);
      const [a, b] = [await login(t, known.email, huge), await login(t, uniqueEmail(), huge)];
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(codeOf(a)).toBe('BAD_USER_INPUT');
      expect(a.text).toBe(b.text);
    });
  });

  describe('oversized passwords', () => {
    it.each([
      ['257 ASCII characters', 'p'.repeat(257)],
      ['257 emoji (514 UTF-16 units)', '🔑'.repeat(257)],
      ['90 000 characters', 'p'.repeat(90_000)],
    ])('register refuses a password of %s and creates no account', async (_label, password) => {
      const email = uniqueEmail('big');
      const before = await databaseSnapshot();
      const res = await gql(t.url, REGISTER, { input: { email, password, name: 'Big' } });
      expect(res.status).toBe(200);
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.extensions!.field).toBe('password');
      expect(await databaseSnapshot()).toEqual(before);
    });

    it('login refuses a 90 000-character password as bad input, without a password check', async () => {
      const known = await register(t);
      const checks = await auditCount(['LOGIN_FAILED', 'LOGIN_SUCCEEDED'], known.id);
      const res = await login(t, known.email, 'p'.repeat(90_000));
      expect(res.status).toBe(200);
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.extensions!.field).toBe('password');
      expect(await auditCount(['LOGIN_FAILED', 'LOGIN_SUCCEEDED'], known.id)).toBe(checks);
    });

    it('changePassword refuses a 10 000-character new password and keeps the old one', async () => {
      const victim = await register(t);
      const before = await databaseSnapshot();
      const res = await gql(
        t.url,
        CHANGE_PASSWORD,
        { current: victim.password, next: 'n'.repeat(10_000) },
        { token: victim.accessToken },
      );
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.extensions!.field).toBe('newPassword');
      expect(await databaseSnapshot()).toEqual(before);
    });

    it('no log line carries a password that was tried', async () => {
      const tried = ['log-probe-password-1', 'log-probe-password-2'];
      await login(t, uniqueEmail(), tried[0]!);
      await gql(t.url, REGISTER, {
        input: { email: 'not-an-email', password: tried[1], name: 'Logs' },
      });
      const logged = JSON.stringify(t.logs);
      for (const password of tried) expect(logged).not.toContain(password);
    });
  });
});

describe('per address (LOGIN_MAX_FAILURES_PER_IP=3, no trusted proxy)', () => {
  const t = useTestApp({ LOGIN_MAX_FAILURES: '100', LOGIN_MAX_FAILURES_PER_IP: '3' });

  it('spraying guesses over many accounts is capped, and a forged X-Forwarded-For does not reset it', async () => {
    const target = await register(t);
    for (let i = 1; i <= 3; i += 1) {
      const res = await login(t, uniqueEmail('spray'), 'Summer2024!', {
        'x-forwarded-for': `203.0.113.${i}`,
      });
      expect(codeOf(res)).toBe('UNAUTHENTICATED');
    }
    const before = await databaseSnapshot();
    // Another account, the right password, and yet another claimed client address.
    const res = await login(t, target.email, target.password, {
      'x-forwarded-for': '198.51.100.7',
      'x-real-ip': '198.51.100.7',
    });
    expect(res.status).toBe(429);
    expect(codeOf(res)).toBe('TOO_MANY_REQUESTS');
    expect(await databaseSnapshot()).toEqual(before);
  });
});
