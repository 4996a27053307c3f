import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HELLO_PROTOS_ENV, serverEnv } from './api';
import { buildServers } from './build';
import { forkServer } from './children';
import { ME, graphqlRequest, myTodos } from './graphql';
import { installSignalHandlers, onStop, stopEverything } from './lifecycle';
import { measure, warmUp } from './load';
import { STORM_CLIENTS, startLoginStorm } from './logins';
import { startMailSink } from './mail-sink';
import { seed } from './seed';
import { spawnEmbeddedServer } from '@graphql-auth-api/embedded-mongo';

/**
 * `npm run bench:profile -- hello|hello_protos|me|my_todos|login [seconds]`: one server process
 * under one scenario with V8's CPU profiler on, then the functions and packages that took its
 * CPU, by self time (`login`: the bench's login storm alone, per successful sign-in; argon2
 * runs on the pool's threads, outside the profile).
 * Only the measured window is profiled (after a warm-up). The profile itself stays in a
 * temporary folder for a closer look (Chrome DevTools, speedscope).
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function packageOf(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.includes('/src/')) return `src/${url.split('/src/')[1]!.split('/')[0]}`;
  if (url.startsWith('node:')) return url;
  return url === '' ? '(native/gc/idle)' : '(other)';
}

function summarize(profile: CpuProfile, requests: number): string {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  // The profiler's own start-up (inspector calls under `profileStart`) is not the server's work.
  const own = new Set<number>();
  const markOwn = (node: ProfileNode, inside: boolean): void => {
    const mine = inside || node.callFrame.url === 'node:inspector';
    if (mine) own.add(node.id);
    for (const child of node.children ?? []) markOwn(byNode.get(child)!, mine);
  };
  if (profile.nodes[0]) markOwn(profile.nodes[0], false);
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
  );
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let busy = 0;
  for (const [id, micros] of selfMicros) {
    const frame = byNode.get(id)!.callFrame;
    if (frame.functionName === '(idle)' || frame.functionName === '(program)' || own.has(id)) {
      continue;
    }
    busy += micros;
    const where = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*node_modules\//, '').replace(/^.*\/src\//, 'src/')}:${frame.lineNumber + 1}`;
    byFunction.set(where, (byFunction.get(where) ?? 0) + micros);
    const pkg = frame.functionName === '(garbage collector)' ? '(gc)' : packageOf(frame.url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros);
  }
  const perRequest = (micros: number) => `${(micros / requests).toFixed(1).padStart(7)} µs/req`;
  const top = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([name, micros]) =>
          `  ${perRequest(micros)}  ${((micros / busy) * 100).toFixed(1).padStart(5)}%  ${name}`,
      )
      .join('\n');
  return (
    `CPU busy: ${perRequest(busy)} over ${requests} requests\n\nby package (self time)\n${top(byPackage, 25)}\n\n` +
    `by function (self time)\n${top(byFunction, 40)}\n`
  );
}

async function main(): Promise<void> {
  installSignalHandlers();
  const scenario = process.argv[2] ?? 'me';
  const seconds = Number(process.argv[3] ?? 10);
  if (!['hello', 'hello_protos', 'me', 'my_todos', 'login'].includes(scenario)) {
    throw new Error('scenario: hello, hello_protos, me, my_todos or login');
  }

  // Compiled code, as production and `npm run bench` run it.
  buildServers();
  const db = await spawnEmbeddedServer({ port: 0 });
  onStop(() => db.stop());
  const profileFile = path.join(
    mkdtempSync(path.join(tmpdir(), 'product-profile-')),
    `${scenario}.cpuprofile`,
  );
  // Production needs a mail transport; the mails go to a sink.
  const mail = await startMailSink();
  onStop(() => mail.stop());
  const env = { ...serverEnv(db.uri, randomBytes(48).toString('base64url')), ...mail.env };
  const options = { dbName: 'bench-profile', profileFile };
  const product = await forkServer('product', { env, options });
  try {
    const users = await seed(product.url, { users: 10, todosEach: 30, todosForFirst: 30 });
    let target = product;
    if (scenario === 'hello' || scenario === 'hello_protos') {
      await product.stop();
      const served = scenario === 'hello_protos' ? HELLO_PROTOS_ENV : {};
      target = await forkServer('hello', { env: { ...env, ...served }, options });
    }
    /**
     * Unprofiled warm-up, then exactly the measured window profiled: what it served (printed)
     * and how many requests (sign-ins for `login`) the profile is divided by.
     */
    const window = async (): Promise<{ line: string; requests: number }> => {
      if (scenario === 'login') {
        const warm = startLoginStorm(target.url, users, STORM_CLIENTS);
        await sleep(3000);
        await warm.stop();
        await target.ask('profileStart');
        const storm = startLoginStorm(target.url, users, STORM_CLIENTS);
        await sleep(seconds * 1000);
        const { logins, failures } = await storm.stop();
        await target.ask('profileStop');
        if (failures > 0) throw new Error(`login: ${failures} sign-ins failed`);
        return { line: `login: ${(logins / seconds).toFixed(1)} sign-ins/s`, requests: logins };
      }
      const query = {
        hello: '{ hello }',
        hello_protos: '{ hello }',
        me: ME,
        my_todos: myTodos(20),
      }[scenario]!;
      const requests = users.map((user) => graphqlRequest(query, undefined, user.token));
      const load = {
        connections: 10,
        pipelining: 1 as const,
        durationSeconds: seconds,
      };
      await warmUp(`${scenario} (warm-up)`, target.url, requests, { maxSeconds: 3 }, load);
      await target.ask('profileStart');
      const sample = await measure(scenario, target.url, requests, load);
      await target.ask('profileStop');
      return {
        line: `${scenario}: ${sample.requestsPerSecond} req/s, p50 ${sample.p50} ms, p99 ${sample.p99} ms`,
        requests: sample.requests,
      };
    };
    const { line, requests } = await window();
    const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
    process.stdout.write(`${line}\n${summarize(profile, requests)}\nprofile: ${profileFile}\n`);
  } finally {
    await stopEverything();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
