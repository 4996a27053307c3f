import { createTransport } from 'nodemailer';
import pLimit from 'p-limit';
import { type Logger } from 'pino';
import { type Config } from '../config';
import { hashForLog } from '../auth/credentials';
import { type OutgoingMail } from './templates';

/** Hands one mail to whatever delivers it. */
export interface MailTransport {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** SMTP through nodemailer: pooled connections, and timeouts far below nodemailer's minutes. */
export function smtpTransport(smtpUrl: string, from: string): MailTransport {
  const transporter = createTransport(
    {
      url: smtpUrl,
      pool: true,
      maxConnections: 2,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    },
    { from },
  );
  return {
    async send(mail) {
      await transporter.sendMail({
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
      });
    },
    close: () => transporter.close(),
  };
}

/**
 * Development without SMTP_URL: each mail is logged with its link, so a developer can follow
 * it. Never built in production (config requires SMTP_URL there).
 */
export function logTransport(logger: Logger): MailTransport {
  return {
    async send(mail) {
      logger.info(
        { mail: { to: mail.to, subject: mail.subject, link: mail.link } },
        'mail not sent (SMTP_URL is not set); follow its link',
      );
    },
    close: () => undefined,
  };
}

export function createMailTransport(config: Config, logger: Logger): MailTransport {
  if (config.mail.smtpUrl) return smtpTransport(config.mail.smtpUrl, config.mail.from);
  if (config.isProduction) throw new Error('SMTP_URL is required in production');
  return logTransport(logger);
}

export interface OutboxOptions {
  attempts: number;
  retryDelayMs: number;
  /** Mails waiting or in flight beyond which new ones are dropped (and logged). */
  maxPending?: number;
}

/** What a job hands back: the mails to send, or nothing. */
type Compose = () => Promise<OutgoingMail | OutgoingMail[] | undefined>;

/**
 * The in-process outbound queue. A mutation enqueues and answers at once: it never waits for
 * SMTP, and a failing server never turns it into an error. A failed send is retried with
 * exponential backoff; what still fails is logged without its link (the link holds a token).
 * `drain` waits for what is pending, within a deadline, at shutdown.
 */
export class Outbox {
  private readonly pending = new Set<Promise<void>>();
  private readonly sending = pLimit(2);
  private readonly wakeSleepers = new Set<() => void>();
  private closing = false;

  constructor(
    private readonly transport: MailTransport,
    private readonly options: OutboxOptions,
    private readonly logger: Logger,
  ) {}

  /** Sends `mail` after the response. */
  send(mail: OutgoingMail): void {
    this.enqueue(mail.kind, async () => mail);
  }

  /**
   * Runs `compose` (database work that decides what to send) after the response, then sends
   * what it returns. Work whose timing must not depend on the account goes here.
   */
  enqueue(job: string, compose: Compose): void {
    if (this.closing || this.pending.size >= (this.options.maxPending ?? 10_000)) {
      this.logger.error({ mailJob: job }, 'mail dropped: the outbound queue is full or closed');
      return;
    }
    const run = (async () => {
      try {
        const composed = await compose();
        const mails = composed === undefined ? [] : [composed].flat();
        await Promise.all(mails.map((mail) => this.sending(() => this.deliver(mail))));
      } catch (error) {
        this.logger.error({ mailJob: job, err: error }, 'mail job failed');
      }
    })();
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
  }

  /** Number of mail jobs not finished yet. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Waits for every pending mail, at most `timeoutMs`; then stops retrying, logs what was
   * left undelivered and closes the transport.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, deadline - Date.now());
        timer.unref();
      });
      await Promise.race([Promise.allSettled([...this.pending]), timeout]);
      clearTimeout(timer);
    }
    await this.close();
  }

  /**
   * Stops at once: no new mail; a mail waiting for its retry gets one last attempt now
   * instead of its backoff, and a failure after that is final.
   */
  async close(): Promise<void> {
    this.closing = true;
    for (const wake of this.wakeSleepers) wake();
    if (this.pending.size > 0) {
      this.logger.warn({ pending: this.pending.size }, 'mail queue closing with mails pending');
      await Promise.allSettled([...this.pending]);
    }
    this.transport.close();
  }

  private async deliver(mail: OutgoingMail): Promise<void> {
    const about = { mailKind: mail.kind, recipientHash: hashForLog(mail.to) };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.transport.send(mail);
        return;
      } catch (error) {
        const reason = describe(error);
        if (attempt >= this.options.attempts || this.closing) {
          this.logger.error(
            { ...about, attempts: attempt, ...reason },
            'mail not delivered: giving up',
          );
          return;
        }
        this.logger.warn({ ...about, attempt, ...reason }, 'mail send failed; will retry');
        await this.sleep(this.options.retryDelayMs * 2 ** (attempt - 1));
      }
    }
  }

  /** A backoff pause that `close` cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakeSleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.wakeSleepers.add(wake);
    });
  }
}

/** What is worth logging about a failed send: never the message, which holds the link. */
function describe(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const smtp = error as Error & { code?: string; responseCode?: number; command?: string };
  return {
    error: error.message,
    code: smtp.code,
    responseCode: smtp.responseCode,
    command: smtp.command,
  };
}
