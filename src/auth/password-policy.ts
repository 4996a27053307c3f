import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';
import { BadUserInputError } from '../common/errors';
import { passwordSchema, validate } from '../common/validation';

/** What the account is known by: a password built from it is refused. */
export interface PasswordOwner {
  email: string;
  name: string;
}

/**
 * Dictionaries are large (loading them takes about a second), so the estimator is built once
 * per process and shared by every app in it.
 */
let estimator: ZxcvbnFactory | undefined;
function sharedEstimator(): ZxcvbnFactory {
  estimator ??= new ZxcvbnFactory({
    translations: english.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...english.dictionary },
    // The l33t matcher's cost grows with the number of substitutable characters (a long
    // password of digits took over 100 ms); 10 variants find the usual substitutions.
    l33tMaxSubstitutions: 10,
    // A password is judged on its first 64 characters: more of them add nothing a guesser
    // would try first, and the matchers' cost grows with the length.
    maxLength: 64,
  });
  return estimator;
}

/**
 * The words an attacker who knows the account would try first (NIST SP 800-63B §3.1.1.2):
 * the address, its local part with and without punctuation, the parts of that, the name and
 * its parts. The whole address alone would not stop `localpart123`.
 */
function ownerWords({ email, name }: PasswordOwner): string[] {
  const local = email.split('@')[0] ?? '';
  const pieces = (value: string) => value.split(/[^\p{L}\p{N}]+/u).filter((p) => p.length >= 3);
  return [
    ...new Set(
      [email, local, local.replace(/[^\p{L}\p{N}]+/gu, ''), ...pieces(local), name, ...pieces(name)]
        .map((word) => word.toLowerCase())
        .filter(Boolean),
    ),
  ];
}

/**
 * The password rule for every new password (register, signUp, changePassword, resetPassword,
 * the admin bootstrap): the length rule, then a strength estimate (zxcvbn) of at least
 * PASSWORD_MIN_SCORE, given the owner's email and name. The message says why a password
 * was refused, in zxcvbn's words.
 */
export class PasswordPolicy {
  constructor(private readonly minScore: number) {}

  /** Loads the dictionaries ahead of the first request, so it does not pay for them. */
  warmUp(): void {
    sharedEstimator();
  }

  /** The normalised password, or BAD_USER_INPUT naming `field` with the reason. */
  accept(raw: unknown, owner: PasswordOwner, field: string): string {
    const password = validate(passwordSchema, raw, field);
    const problem = this.weakness(password, owner);
    if (problem) throw new BadUserInputError(problem, field);
    return password;
  }

  /** Why the password is too weak, or undefined when it is strong enough. */
  weakness(password: string, owner: PasswordOwner): string | undefined {
    if (this.minScore === 0) return undefined;
    const { score, feedback } = sharedEstimator().check(password, ownerWords(owner));
    if (score >= this.minScore) return undefined;
    const why = [feedback.warning, ...feedback.suggestions].filter(Boolean).join(' ');
    return `Password is too easy to guess. ${why || 'Add more words that are less common.'}`;
  }
}
