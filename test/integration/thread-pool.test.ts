import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { codeOf, gql } from '../helpers/graphql';
import { startTestDatabase, type TestDatabase } from '../helpers/database';
import { LOGIN } from '../helpers/operations';
import { type ApiProcess, startApiProcess, uriWithDatabase } from '../helpers/process';

interface ThreadStat {
  nice: number;
  /** utime + stime, in clock ticks. */
  cpu: number;
}

/** Every thread of a process, from /proc/<pid>/task/<tid>/stat (fields 14, 15 and 19). */
function threadsOf(pid: number): Map<string, ThreadStat> {
  const threads = new Map<string, ThreadStat>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    threads.set(tid, { cpu: Number(fields[11]) + Number(fields[12]), nice: Number(fields[16]) });
  }
  return threads;
}

/** CPU the process's threads other than the main one spent between two readings, by nice. */
function cpuByNice(pid: number, before: Map<string, ThreadStat>): Map<number, number> {
  const spent = new Map<number, number>();
  for (const [tid, thread] of threadsOf(pid)) {
    if (tid === String(pid)) continue;
    const delta = thread.cpu - (before.get(tid)?.cpu ?? 0);
    spent.set(thread.nice, (spent.get(thread.nice) ?? 0) + delta);
  }
  return spent;
}

/** Eight failed sign-ins, each an argon2 verification (unknown emails cost one too). */
async function hashEightTimes(url: string): Promise<void> {
  for (let i = 0; i < 8; i++) {
    const response = await gql(url, LOGIN, {
      email: `nobody-${i}@example.com`,
      password: 'not anybody’s password',
    });
    expect(codeOf(response)).toBe('UNAUTHENTICATED');
  }
}

// The priority is lowered on Linux only (elsewhere setpriority would lower the event loop too).
const onLinux = process.platform === 'linux' ? describe : describe.skip;

onLinux('password hashing priority (THREAD_POOL_NICE)', () => {
  let db: TestDatabase;
  let api: ApiProcess | undefined;
  const start = async (env: Record<string, string> = {}) => {
    api = await startApiProcess({
      MONGODB_URI: uriWithDatabase(db.uri, db.dbName),
      JWT_SECRET: randomBytes(32).toString('hex'),
      ...env,
    });
    return api;
  };
  beforeAll(async () => {
    db = await startTestDatabase();
  });
  afterEach(async () => {
    await api?.stop('SIGKILL');
    api = undefined;
  });
  afterAll(async () => {
    await db.stop();
  });

  it('hashes on threads at nice 19 by default, while the event loop keeps its priority', async () => {
    const { child, url, logs } = await start();
    const pid = child.pid!;
    const before = threadsOf(pid);
    await hashEightTimes(url);

    expect(threadsOf(pid).get(String(pid))!.nice).toBe(0);
    const spent = cpuByNice(pid, before);
    const lowered = spent.get(19) ?? 0;
    const total = [...spent.values()].reduce((sum, ticks) => sum + ticks, 0);
    // Eight argon2id verifications (19 MiB, 2 passes) take tens of milliseconds each.
    expect(lowered).toBeGreaterThanOrEqual(5);
    expect(lowered / total).toBeGreaterThan(0.7);
    expect(logs.map((line) => line.msg)).not.toContainEqual(
      expect.stringContaining('THREAD_POOL_NICE'),
    );
  }, 60_000);

  it('with THREAD_POOL_NICE=0 hashes at the event loop’s priority', async () => {
    const { child, url } = await start({ THREAD_POOL_NICE: '0' });
    const pid = child.pid!;
    const before = threadsOf(pid);
    await hashEightTimes(url);

    const spent = cpuByNice(pid, before);
    expect(spent.get(0)).toBeGreaterThanOrEqual(5);
    expect([...spent.keys()]).toEqual([0]);
  }, 60_000);

  it('says so, and changes nothing, when the pool was already in use', () => {
    const script = `
      const { stat } = require('node:fs');
      const { lowerThreadPoolPriority } = require('./src/common/thread-pool');
      stat('/', () => lowerThreadPoolPriority(19).then((result) => console.log(result.outcome)));
    `;
    const output = execFileSync(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-e', script],
      { cwd: join(__dirname, '..', '..'), encoding: 'utf8' },
    );
    expect(output.trim()).toBe('too-late');
  }, 30_000);
});
