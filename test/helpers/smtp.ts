import { type AddressInfo, createServer } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One message as the SMTP server received it. */
export interface ReceivedMail {
  /** Envelope recipients (RCPT TO). */
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  /** The `${APP_URL}/<page>?token=<token>` link of the text body. */
  link: string;
  page: string;
  token: string;
}

export interface TestSmtp {
  /** `smtp://user:password@127.0.0.1:<port>`, for SMTP_URL. */
  url: string;
  received: ReceivedMail[];
  /**
   * The next mail to `to` not taken yet, waiting for it if need be (event-driven, with a
   * generous deadline so a busy machine does not fail the test).
   */
  takeMail(to: string, timeoutMs?: number): Promise<ReceivedMail>;
  /** Mails to `to` not taken yet. */
  untaken(to: string): ReceivedMail[];
  /** While set, every message is refused with this SMTP reply code (e.g. 550). */
  refuseWith(code: number | undefined): void;
  stop(): Promise<void>;
}

const USER = 'mailer';
const PASSWORD = 'smtp secret';
const LINK = /(https?:\/\/[^\s?]+\/([a-z-]+)\?token=([A-Za-z0-9_%-]+))/;

/**
 * A real SMTP server in the test process (smtp-server), reading what arrives with mailparser.
 * It asks for the credentials the URL carries, as a real relay would.
 */
export async function startTestSmtp(): Promise<TestSmtp> {
  const received: ReceivedMail[] = [];
  const taken = new Set<ReceivedMail>();
  const waiters = new Set<() => void>();
  let refusal: number | undefined;

  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASSWORD)
        return callback(null, { user: USER });
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (refusal !== undefined) {
          const error = Object.assign(new Error('Mailbox unavailable'), {
            responseCode: refusal,
          });
          return callback(error);
        }
        simpleParser(Buffer.concat(chunks)).then(
          (parsed) => {
            const text = parsed.text ?? '';
            const match = LINK.exec(text);
            received.push({
              to: session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()),
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              subject: parsed.subject ?? '',
              text,
              html: parsed.html || '',
              link: match?.[1] ?? '',
              page: match?.[2] ?? '',
              token: match ? decodeURIComponent(match[3]!) : '',
            });
            for (const wake of waiters) wake();
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;

  const untaken = (to: string) =>
    received.filter((mail) => !taken.has(mail) && mail.to.includes(to.toLowerCase()));

  return {
    url: `smtp://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`,
    received,
    untaken,
    takeMail(to, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const mail = untaken(to)[0];
          if (!mail) return false;
          taken.add(mail);
          done();
          resolve(mail);
          return true;
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(`no mail to ${to} within ${timeoutMs} ms (${received.length} received)`),
          );
        }, timeoutMs);
        const wake = () => void check();
        const done = () => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        waiters.add(wake);
        check();
      });
    },
    refuseWith(code) {
      refusal = code;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A local port where nothing listens: connections to it are refused at once. */
export async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
