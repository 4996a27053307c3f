import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';

/** What `lowerThreadPoolPriority` did, for the start-up log. */
export type ThreadPoolPriority =
  | {
      outcome: 'lowered';
      nice: number;
      threads: number;
      /** 'idle': the threads run under SCHED_IDLE too; else why they do not (or 'off'). */
      idlePolicy: 'idle' | 'off' | { failed: string };
    }
  | { outcome: 'off' }
  /** setpriority is per process outside Linux: it would lower the event loop as well. */
  | { outcome: 'unsupported' }
  /** Something used the pool before: its threads keep the event loop's priority. */
  | { outcome: 'too-late' };

/**
 * Runs in a short-lived worker thread: lowers that thread's priority (on Linux `setpriority`
 * with 0 means the calling thread), then makes the process's first use of the pool, so the
 * pool's threads are created from this thread and inherit its nice value. Replies with its
 * own thread id, which is not one of the pool's.
 */
const FIRST_USE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readlinkSync, stat } = require('node:fs');
require('node:os').setPriority(0, workerData);
stat('/', () => parentPort.postMessage(readlinkSync('/proc/thread-self').split('/').pop()));
`;

/** Nice value of each of this process's threads (field 19 of /proc/self/task/<tid>/stat). */
function threadNices(): Map<string, number> {
  const nices = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      nices.set(tid, Number(fields[16]));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return nices;
}

/**
 * Gives libuv's thread pool a lower CPU priority than the event loop, `by` nice levels.
 *
 * The pool runs argon2, which keeps a core busy for tens of milliseconds per password. When
 * every core is busy (a login storm on a small machine), the scheduler then lets the event
 * loop, and with it every other request, run first, and hashing takes what is left: logins
 * slow down instead of the whole API. The pool's other users (async fs, DNS lookups) are
 * rare here and can wait as well.
 *
 * Linux keeps a nice value per thread, and a new thread takes its creator's. libuv creates
 * the pool's threads all at once, on the process's first use of the pool, from the thread
 * that makes it. So this must run before anything uses the pool (before the logger and the
 * database connection); if something did, nothing changes and the outcome says so. With
 * `idle`, the pool's threads also run under SCHED_IDLE (`idleSchedulingPolicy`).
 */
export async function lowerThreadPoolPriority(
  by: number,
  idle = false,
): Promise<ThreadPoolPriority> {
  if (by === 0) return { outcome: 'off' };
  if (process.platform !== 'linux') return { outcome: 'unsupported' };
  const nice = Math.min(19, getPriority(0) + by);
  const before = threadNices();
  const worker = new Worker(FIRST_USE, { eval: true, workerData: nice });
  try {
    const [workerThread] = (await once(worker, 'message')) as [string];
    // The threads that appeared meanwhile, at the lowered priority: the pool's.
    const pool: string[] = [];
    for (const [tid, value] of threadNices()) {
      if (!before.has(tid) && tid !== workerThread && value === nice) pool.push(tid);
    }
    if (pool.length === 0) return { outcome: 'too-late' };
    return {
      outcome: 'lowered',
      nice,
      threads: pool.length,
      idlePolicy: idle ? idleSchedulingPolicy(pool) : 'off',
    };
  } finally {
    await worker.terminate();
  }
}

/**
 * Puts the given threads of this process under SCHED_IDLE (sched(7)), with util-linux's `chrt`
 * (Node has no binding for sched_setscheduler; any user may move its own threads there). A
 * nice value only weighs a thread's share: a nice-19 thread that holds a core still runs out
 * its time slice (milliseconds) before a woken event loop gets the core back, and the
 * scheduler does not count its core as free when it places the threads it wakes. An idle-policy
 * thread is preempted at once and its core counts as free. Threads a hash starts (argon2's
 * lanes) inherit the policy. Returns 'idle', or why not; the nice value stays either way.
 */
function idleSchedulingPolicy(threads: string[]): 'idle' | { failed: string } {
  try {
    for (const tid of threads) {
      execFileSync('chrt', ['--idle', '--pid', '0', tid], { stdio: 'pipe', timeout: 5_000 });
    }
    return 'idle';
  } catch (error) {
    const { code, stderr } = error as { code?: string; stderr?: Buffer };
    return {
      failed:
        code === 'ENOENT' ? 'chrt (util-linux) is not installed' : String(stderr ?? error).trim(),
    };
  }
}

/** What the start-up log must say about a `lowerThreadPoolPriority` outcome (nothing: fine). */
export function threadPoolWarnings(pool: ThreadPoolPriority): string[] {
  if (pool.outcome === 'too-late') {
    return ['THREAD_POOL_NICE: the thread pool was already running; it keeps its priority'];
  }
  if (pool.outcome === 'lowered' && typeof pool.idlePolicy === 'object') {
    return [
      `THREAD_POOL_IDLE: hashing stays at nice ${pool.nice} without SCHED_IDLE: ${pool.idlePolicy.failed}`,
    ];
  }
  return [];
}
