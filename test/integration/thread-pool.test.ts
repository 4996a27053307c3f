import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeOf, gql } from '../helpers/graphql';
import { startTestDatabase, type TestDatabase } from '../helpers/database';
import { LOGIN } from '../helpers/operations';
import { type ApiProcess, startApiProcess, uriWithDatabase } from '../helpers/process';

/** sched(7)'s policies as /proc reports them. */
const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

interface ThreadStat {
  nice: number;
  /** Scheduling policy (field 41). */
  policy: number;
  /** utime + stime, in clock ticks. */
  cpu: number;
}

/** Every thread of a process, from /proc/<pid>/task/<tid>/stat (fields 14, 15, 19 and 41). */
function threadsOf(pid: number): Map<string, ThreadStat> {
  const threads = new Map<string, ThreadStat>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    threads.set(tid, {
      cpu: Number(fields[11]) + Number(fields[12]),
      nice: Number(fields[16]),
      policy: Number(fields[38]),
    });
  }
  return threads;
}

/**
 * CPU the process's threads other than the main one spent between two readings, by nice
 * value and scheduling policy (`19/5`: nice 19 under SCHED_IDLE).
 */
function cpuByPriority(pid: number, before: Map<string, ThreadStat>): Map<string, number> {
  const spent = new Map<string, number>();
  for (const [tid, thread] of threadsOf(pid)) {
    if (tid === String(pid)) continue;
    const delta = thread.cpu - (before.get(tid)?.cpu ?? 0);
    const key = `${thread.nice}/${thread.policy}`;
    spent.set(key, (spent.get(key) ?? 0) + delta);
  }
  return spent;
}

/** Most of the hashing (in ticks) ran on threads of `priority`, and at least 5 ticks of it. */
function expectHashedAt(spent: Map<string, number>, priority: string): void {
  const lowered = spent.get(priority) ?? 0;
  const total = [...spent.values()].reduce((sum, ticks) => sum + ticks, 0);
  // Eight argon2id verifications (19 MiB, 2 passes) take tens of milliseconds each.
  expect(lowered).toBeGreaterThanOrEqual(5);
  expect(lowered / total).toBeGreaterThan(0.7);
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

onLinux('password hashing priority (THREAD_POOL_NICE, THREAD_POOL_IDLE)', () => {
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

  /**
   * Starts the API with `env`, has it hash eight times, and returns the CPU its threads other
   * than the main one spent on that by priority, with the main thread's priority and the logs.
   */
  const hashAfterStart = async (env: Record<string, string> = {}) => {
    const { child, url, logs } = await start(env);
    const pid = child.pid!;
    const before = threadsOf(pid);
    await hashEightTimes(url);
    const main = threadsOf(pid).get(String(pid))!;
    const messages = logs.map((line) => line.msg);
    return { spent: cpuByPriority(pid, before), main, messages };
  };

  it('hashes on threads at nice 19 under SCHED_IDLE by default, while the event loop keeps its priority', async () => {
    const { spent, main, messages } = await hashAfterStart();
    expect([main.nice, main.policy]).toEqual([0, SCHED_OTHER]);
    expectHashedAt(spent, `19/${SCHED_IDLE}`);
    expect(messages).not.toContainEqual(expect.stringContaining('THREAD_POOL_'));
  }, 60_000);

  it('with THREAD_POOL_IDLE=false hashes at nice 19 under the normal policy', async () => {
    const { spent } = await hashAfterStart({ THREAD_POOL_IDLE: 'false' });
    expectHashedAt(spent, `19/${SCHED_OTHER}`);
  }, 60_000);

  it('without chrt on the PATH says so and hashes at nice 19 under the normal policy', async () => {
    const { spent, messages } = await hashAfterStart({
      PATH: mkdtempSync(join(tmpdir(), 'no-chrt-')),
    });
    expectHashedAt(spent, `19/${SCHED_OTHER}`);
    expect(messages).toContainEqual(
      expect.stringMatching(/^THREAD_POOL_IDLE: .*chrt \(util-linux\) is not installed/),
    );
  }, 60_000);

  it('with THREAD_POOL_NICE=0 hashes at the event loop’s priority', async () => {
    const { spent } = await hashAfterStart({ THREAD_POOL_NICE: '0' });
    expect(spent.get(`0/${SCHED_OTHER}`)).toBeGreaterThanOrEqual(5);
    expect([...spent.keys()]).toEqual([`0/${SCHED_OTHER}`]);
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
