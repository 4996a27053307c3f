import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BadUserInputError } from '../common/errors';
import { passwordSchema, validate } from '../common/validation';
import { type StrengthReply, type StrengthRequest } from './password-strength-worker';

/** What the account is known by: a password built from it is refused. */
export interface PasswordOwner {
  email: string;
  name: string;
}

type Estimate = Extract<StrengthReply, { score: number }>;

/**
 * One worker thread per process runs every strength check, one after the other (see
 * `password-strength-worker.ts`). It keeps the process alive only while a check is pending,
 * and a worker that died is replaced at the next check.
 */
class StrengthWorker {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve(estimate: Estimate): void; reject(error: Error): void }
  >();

  start(): Promise<void> {
    if (this.ready) return this.ready;
    const file = join(__dirname, `password-strength-worker${extname(__filename)}`);
    // Under ts-node (development, tests) the worker compiles its TypeScript the same way.
    const worker = new Worker(file, {
      execArgv: extname(__filename) === '.ts' ? ['-r', 'ts-node/register/transpile-only'] : [],
    });
    this.worker = worker;
    // Referenced while it starts and while a check is pending, so that a script waiting for
    // it stays alive; a server idles without it holding the process open.
    this.ready = new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (reply: StrengthReply | 'ready') => {
        if (reply === 'ready') {
          if (this.pending.size === 0) worker.unref();
          return resolve();
        }
        const waiting = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        if (this.pending.size === 0) worker.unref();
        if ('error' in reply) waiting?.reject(new Error(`password strength check: ${reply.error}`));
        else waiting?.resolve(reply);
      });
    });
    worker.on('exit', (code) => {
      const failure = new Error(`password strength worker exited (${code})`);
      for (const waiting of this.pending.values()) waiting.reject(failure);
      this.pending.clear();
      this.worker = undefined;
      this.ready = undefined;
    });
    return this.ready;
  }

  async estimate(password: string, words: string[]): Promise<Estimate> {
    await this.start();
    const worker = this.worker!;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, password, words } satisfies StrengthRequest);
    });
  }
}

const strength = new StrengthWorker();

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
 * was refused, in zxcvbn's words. The estimate runs in a worker thread: the request thread
 * waits for it without doing its work (~20 ms a check) or holding its dictionaries.
 */
export class PasswordPolicy {
  constructor(private readonly minScore: number) {}

  /** Starts the worker and loads the dictionaries ahead of the first request. */
  async warmUp(): Promise<void> {
    if (this.minScore > 0) await strength.start();
  }

  /** The normalised password, or BAD_USER_INPUT naming `field` with the reason. */
  async accept(raw: unknown, owner: PasswordOwner, field: string): Promise<string> {
    const password = validate(passwordSchema, raw, field);
    const problem = await this.weakness(password, owner);
    if (problem) throw new BadUserInputError(problem, field);
    return password;
  }

  /** Why the password is too weak, or undefined when it is strong enough. */
  async weakness(password: string, owner: PasswordOwner): Promise<string | undefined> {
    if (this.minScore === 0) return undefined;
    const { score, warning, suggestions } = await strength.estimate(password, ownerWords(owner));
    if (score >= this.minScore) return undefined;
    const why = [warning, ...suggestions].filter(Boolean).join(' ');
    return `Password is too easy to guess. ${why || 'Add more words that are less common.'}`;
  }
}
