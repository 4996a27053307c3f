import { HOOK_TIMEOUT_MS, type TestApp, startTestApp } from './app';
import { uniqueEmail } from './operations';
import { type GraphQLResponse, gql } from './graphql';
import { type ReceivedMail, type TestSmtp, startTestSmtp } from './smtp';

export const APP_URL = 'https://app.example.com';
export const PASSPHRASE = 'correct horse battery';

export const SIGN_UP = 'mutation ($input: RegisterInput!) { signUp(input: $input) }';
export const VERIFY_EMAIL = 'mutation ($token: String!) { verifyEmail(token: $token) }';
export const RESEND = 'mutation { resendVerificationEmail }';
export const REQUEST_RESET = 'mutation ($email: String!) { requestPasswordReset(email: $email) }';
export const RESET_PASSWORD =
  'mutation ($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }';
export const CHANGE_EMAIL =
  'mutation ($email: String!, $password: String!) { changeEmail(newEmail: $email, currentPassword: $password) }';
export const ME_VERIFIED = '{ me { id email emailVerified } }';

export interface MailApp {
  t: TestApp;
  smtp: TestSmtp;
  stop(): Promise<void>;
}

/** The real app with its SMTP_URL pointing at a real SMTP server in this process. */
export async function startMailApp(env: Record<string, string> = {}): Promise<MailApp> {
  const smtp = await startTestSmtp();
  const t = await startTestApp({
    SMTP_URL: smtp.url,
    APP_URL,
    MAIL_FROM: 'Accounts <accounts@example.com>',
    MAIL_RETRY_DELAY_MS: '20',
    ...env,
  });
  return {
    t,
    smtp,
    async stop() {
      await t.stop();
      await smtp.stop();
    },
  };
}

export function signUp(
  t: Pick<TestApp, 'url'>,
  input: Partial<{ email: string; password: string; name: string }> = {},
): Promise<GraphQLResponse> {
  return gql(t.url, SIGN_UP, {
    input: { email: uniqueEmail('signup'), password: PASSPHRASE, name: 'Sam Signup', ...input },
  });
}

/** What a browser does with a link: the page reads the token and calls the API with it. */
export function follow(t: TestApp, mail: ReceivedMail, newPassword?: string) {
  expect(mail.link.startsWith(`${APP_URL}/${mail.page}?token=`)).toBe(true);
  if (mail.page === 'reset-password') {
    return gql(t.url, RESET_PASSWORD, { token: mail.token, password: newPassword ?? PASSPHRASE });
  }
  return gql(t.url, VERIFY_EMAIL, { token: mail.token });
}

/** Waits until every queued mail job has finished (sent, given up, or decided to send none). */
export async function outboxSettled(t: TestApp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (t.app.services.outbox.size > 0) {
    if (Date.now() > deadline) throw new Error('mail jobs still pending');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits for a log line the app wrote (mail delivery happens after the response). */
export async function logLine(
  t: Pick<TestApp, 'logs'>,
  matches: (line: Record<string, unknown>) => boolean,
  timeoutMs = 20_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = t.logs.find(matches);
    if (line) return line;
    if (Date.now() > deadline) throw new Error('expected log line did not appear');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `startMailApp` for a file or block: started before its first test, stopped after its last. */
export function useMailApp(env: Record<string, string> = {}): MailApp {
  const handle = {} as MailApp;
  beforeAll(async () => {
    Object.assign(handle, await startMailApp(env));
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await handle.stop?.();
  }, HOOK_TIMEOUT_MS);
  return handle;
}
