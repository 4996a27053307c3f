import { type AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface MailSink {
  /** SMTP_URL and APP_URL for the product's environment. */
  env: { SMTP_URL: string; APP_URL: string };
  /** Messages accepted so far. */
  received(): number;
  stop(): Promise<void>;
}

/**
 * An SMTP server that accepts and discards every message, so the product (which needs
 * SMTP_URL in production) sends its mails somewhere real without retries skewing the numbers.
 */
export async function startMailSink(): Promise<MailSink> {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      stream.on('end', () => {
        received += 1;
        callback();
      });
      stream.resume();
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    env: { SMTP_URL: `smtp://127.0.0.1:${port}`, APP_URL: 'https://app.example.com' },
    received: () => received,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
