import { readFileSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';

/** What `lowerThreadPoolPriority` did, for the start-up log. */
export type ThreadPoolPriority =
  | { outcome: 'lowered'; nice: number; threads: number }
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
 * database connection); if something did, nothing changes and the outcome says so.
 */
export async function lowerThreadPoolPriority(by: number): Promise<ThreadPoolPriority> {
  if (by === 0) return { outcome: 'off' };
  if (process.platform !== 'linux') return { outcome: 'unsupported' };
  const nice = Math.min(19, getPriority(0) + by);
  const before = threadNices();
  const worker = new Worker(FIRST_USE, { eval: true, workerData: nice });
  try {
    const [workerThread] = (await once(worker, 'message')) as [string];
    // The threads that appeared meanwhile, at the lowered priority: the pool's.
    let threads = 0;
    for (const [tid, value] of threadNices()) {
      if (!before.has(tid) && tid !== workerThread && value === nice) threads += 1;
    }
    return threads > 0 ? { outcome: 'lowered', nice, threads } : { outcome: 'too-late' };
  } finally {
    await worker.terminate();
  }
}
