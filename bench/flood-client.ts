import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { REGISTER } from './graphql';

/**
 * The register flood of `register-flood.ts`, in a process of its own, so that its client-side
 * work (60 requests in a loop) does not delay the measured logins' own event loop. Arguments:
 * base URL, concurrency, the flooding address (X-Forwarded-For). It starts paused and answers
 * 'ready'. 'flood' starts `concurrency` loops of registrations; 'pause' ends them and answers
 * 'paused' once every request in flight has come back; 'stop' reports { sent, refused } and
 * exits.
 */
const [url, concurrencyArg, address] = process.argv.slice(2) as [string, string, string];
const concurrency = Number(concurrencyArg);
const target = new URL('/graphql', url);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

let running = false;
let loops: Promise<void> = Promise.resolve();
let sent = 0;
let refused = 0;

function registerOnce(): Promise<void> {
  const body = JSON.stringify({
    query: REGISTER,
    variables: {
      input: {
        email: `flood-${randomBytes(6).toString('hex')}@example.com`,
        password: 'flood password',
        name: 'Flood',
      },
    },
  });
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-forwarded-for': address,
        },
      },
      (res) => {
        sent += 1;
        if (res.statusCode === 429) refused += 1;
        res.resume();
        res.on('end', () => resolve());
      },
    );
    // A reset connection ends this request; the loop sends the next one.
    req.on('error', () => resolve());
    req.end(body);
  });
}

async function loop(): Promise<void> {
  while (running) await registerOnce();
}

process.on('message', (message) => {
  if (message === 'flood' && !running) {
    running = true;
    loops = Promise.all(Array.from({ length: concurrency }, loop)).then(() => undefined);
  } else if (message === 'pause') {
    running = false;
    void loops.then(() => process.send?.('paused'));
  } else if (message === 'stop') {
    running = false;
    void loops.then(() => process.send?.({ sent, refused }, () => process.exit(0)));
  }
});
process.send?.('ready');
