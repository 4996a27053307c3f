import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

/**
 * CPU time of the processes involved in a scenario, so the table can say what was busy: a
 * server at ~1.0 core is limited by its own work, one well below 1.0 is waiting (on the
 * database, or on a machine that has no core left). Linux /proc only; elsewhere the numbers
 * are absent rather than wrong.
 */

/** USER_HZ: 100 on every mainstream Linux build. */
const TICKS_PER_SECOND = 100;

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after it start past its ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds of `pid` so far, or undefined when it cannot be read. */
export function cpuSeconds(pid: number): number | undefined {
  const fields = statFields(pid);
  if (!fields) return undefined;
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** The child of this process whose command line contains `needle` (the database). */
export function findChildPid(needle: string): number | undefined {
  if (os.platform() !== 'linux') return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (!fields || Number(fields[1]) !== process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) return Number(entry);
    } catch {
      // It ended between the two reads.
    }
  }
  return undefined;
}

/** Milliseconds every core spent idle and busy since boot. */
function totals(): { idle: number; busy: number } {
  return os.cpus().reduce(
    (sum, cpu) => {
      const { idle, ...rest } = cpu.times;
      sum.idle += idle;
      sum.busy += Object.values(rest).reduce((a, b) => a + b, 0);
      return sum;
    },
    { idle: 0, busy: 0 },
  );
}

export interface CpuUse {
  /** Cores used on average while the scenario ran (1.0 = one core busy all the time). */
  server?: number;
  database?: number;
  bench?: number;
  /** Everything else on the machine: well above 0 means the numbers are skewed. */
  other?: number;
  /** CPU seconds (user + system) over the window, for the CPU time per request. */
  serverSeconds?: number;
  databaseSeconds?: number;
}

/** Starts a CPU meter over the given processes; `stop()` returns cores used on average. */
export function cpuMeter(pids: { server: number; database: number | undefined }): {
  stop(): CpuUse;
} {
  const started = performance.now();
  const server = cpuSeconds(pids.server);
  const database = pids.database === undefined ? undefined : cpuSeconds(pids.database);
  const bench = process.cpuUsage();
  const machine = totals();
  return {
    stop() {
      const seconds = (performance.now() - started) / 1000;
      const spent = (before: number | undefined, pid: number | undefined) => {
        const after = pid === undefined ? undefined : cpuSeconds(pid);
        return before === undefined || after === undefined ? undefined : after - before;
      };
      const cores = (cpu: number | undefined) =>
        cpu === undefined ? undefined : Math.round((cpu / seconds) * 100) / 100;
      const serverSeconds = spent(server, pids.server);
      const databaseSeconds = spent(database, pids.database);
      const own = process.cpuUsage(bench);
      const used: CpuUse = {
        server: cores(serverSeconds),
        database: cores(databaseSeconds),
        bench: Math.round(((own.user + own.system) / 1e6 / seconds) * 100) / 100,
        serverSeconds,
        databaseSeconds,
      };
      const busy = (totals().busy - machine.busy) / 1000 / seconds;
      const ours = (used.server ?? 0) + (used.database ?? 0) + (used.bench ?? 0);
      return { ...used, other: Math.max(0, Math.round((busy - ours) * 100) / 100) };
    },
  };
}

/** Share of the whole machine's CPU that is busy over `ms` (0 = idle, 1 = every core busy). */
export async function machineBusy(ms: number): Promise<number> {
  const before = totals();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = totals();
  const busy = after.busy - before.busy;
  const idle = after.idle - before.idle;
  return busy + idle > 0 ? busy / (busy + idle) : 0;
}
