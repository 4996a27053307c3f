import { type AccountTokenKind } from '../accounts/account-token.model';

/** Every mail the API sends; the value names it in logs. */
export type MailKind =
  | 'verify-email'
  | 'account-exists'
  | 'reset-password'
  | 'confirm-email-change'
  | 'email-change-notice';

export interface OutgoingMail {
  kind: MailKind;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The one link of the mail (it holds a token: logged only outside production). */
  link: string;
}

export interface MailInput {
  kind: MailKind;
  to: string;
  name: string;
  /** `${APP_URL}/<page>?token=<token>`, from `accountLink`. */
  link: string;
  /** How long the link works, in seconds. */
  validForSeconds: number;
  /** The address an email change goes to (notice to the old address). */
  newEmail?: string;
}

/** The page of the front end that handles a token of `kind`, and the link to it. */
export function accountLink(appUrl: string, kind: AccountTokenKind, token: string): string {
  return `${appUrl}/${kind}?token=${encodeURIComponent(token)}`;
}

function lifetime(seconds: number): string {
  if (seconds % 86400 === 0) return plural(seconds / 86400, 'day');
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute');
  return plural(seconds, 'second');
}
const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** Shows where an address change goes without spelling out the whole new address. */
function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}

interface Wording {
  subject: string;
  /** Paragraphs before the link. */
  before: string[];
  /** Paragraphs after it. */
  after: string[];
}

function wording(input: MailInput): Wording {
  const expiry = `The link works once, for ${lifetime(input.validForSeconds)}.`;
  switch (input.kind) {
    case 'verify-email':
      return {
        subject: 'Confirm your email address',
        before: ['Confirm that this address belongs to you by opening this link:'],
        after: [expiry, 'If you did not create an account, ignore this mail.'],
      };
    case 'account-exists':
      return {
        subject: 'You already have an account',
        before: [
          'Someone, hopefully you, tried to sign up with this address, which already has an account.',
          'If you forgot your password, choose a new one here:',
        ],
        after: [expiry, 'If it was not you, ignore this mail: nothing has changed.'],
      };
    case 'reset-password':
      return {
        subject: 'Reset your password',
        before: ['Choose a new password with this link:'],
        after: [
          expiry,
          'Every device signed in to your account will be signed out.',
          'If you did not ask for this, ignore this mail: your password stays as it is.',
        ],
      };
    case 'confirm-email-change':
      return {
        subject: 'Confirm your new email address',
        before: ['To make this the address of your account, open this link:'],
        after: [
          expiry,
          'Until then you keep signing in with your current address. Confirming signs every device out.',
        ],
      };
    case 'email-change-notice':
      return {
        subject: 'Your email address is being changed',
        before: [
          `Someone signed in to your account asked to change its address to ${maskEmail(input.newEmail ?? '')}.`,
          'If that was you, there is nothing to do. If not, reset your password now; that signs every device out and stops the change:',
        ],
        after: [expiry],
      };
  }
}

/** Plain text and HTML bodies of one mail; both hold the same single link. */
export function composeMail(input: MailInput): OutgoingMail {
  const { subject, before, after } = wording(input);
  const greeting = `Hello ${input.name},`;
  const text = [greeting, ...before, input.link, ...after].join('\n\n') + '\n';
  const paragraph = (value: string) => `<p>${escapeHtml(value)}</p>`;
  const link = escapeHtml(input.link);
  const html = [
    paragraph(greeting),
    ...before.map(paragraph),
    `<p><a href="${link}">${link}</a></p>`,
    ...after.map(paragraph),
  ].join('\n');
  return { kind: input.kind, to: input.to, subject, text, html, link: input.link };
}
