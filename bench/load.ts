import autocannon from 'autocannon';

/** The same for every scenario, so the numbers compare. */
export interface LoadSettings {
  connections: number;
  /** Always 1: clients of an API wait for each answer. */
  pipelining: 1;
  /** Measured seconds per scenario and round (in slices, see `ApiSettings.slices`). */
  durationSeconds: number;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface Sample {
  requestsPerSecond: number;
  /** Milliseconds, from every response's own time (sub-millisecond resolution). */
  p50: number;
  p99: number;
  requests: number;
  seconds: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function round(value: number, digits: number): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function run(
  options: autocannon.Options,
  /** Called for every answer; `stop` ends the run early (the result covers what ran). */
  onResponse?: (ms: number, stop: () => void) => void,
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error: unknown, result: autocannon.Result) =>
      error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result),
    );
    if (onResponse) {
      const stop = () => instance.stop();
      instance.on('response', (_client, _status, _bytes, ms) => onResponse(ms, stop));
    }
  });
}

/**
 * A scenario is only a number if every answer was the expected one: connection errors,
 * timeouts and non-2xx answers (401 from an expired token, 429 from throttling) stop the
 * bench instead of being averaged in as fast failures.
 */
function assertClean(label: string, result: autocannon.Result): void {
  if (result.errors === 0 && result.timeouts === 0 && result.non2xx === 0) return;
  const codes = JSON.stringify(result.statusCodeStats ?? {});
  throw new Error(
    `${label}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx (status codes ${codes})`,
  );
}

function options(
  url: string,
  requests: HttpRequest[],
  settings: Pick<LoadSettings, 'connections' | 'pipelining'>,
): autocannon.Options {
  return {
    url,
    connections: settings.connections,
    pipelining: settings.pipelining,
    // Static requests, cycled per connection: built once, so several tokens cost the load
    // generator nothing per request (a setupRequest function would rebuild every request).
    requests: requests.map((request) => ({ ...request })),
    timeout: 30,
  };
}

/** One measured stretch of a scenario: every answer's latency, and how long it ran. */
export interface Slice {
  latencies: number[];
  requests: number;
  seconds: number;
}

/**
 * Runs `requests` (cycled) for `seconds` and keeps every response's latency. Slices of one
 * scenario add up (`summarize`), so a scenario's measured time can be spread over a round.
 */
export async function measureSlice(
  label: string,
  url: string,
  requests: HttpRequest[],
  seconds: number,
  settings: Pick<LoadSettings, 'connections' | 'pipelining'>,
): Promise<Slice> {
  const latencies: number[] = [];
  const result = await run({ ...options(url, requests, settings), duration: seconds }, (ms) =>
    latencies.push(ms),
  );
  assertClean(label, result);
  return { latencies, requests: result.requests.total, seconds: result.duration };
}

/** Rate and percentiles over one or more slices of a scenario. */
export function summarize(slices: Slice[]): Sample {
  const sorted = Float64Array.from(slices.flatMap((slice) => slice.latencies)).sort();
  const requests = slices.reduce((sum, slice) => sum + slice.requests, 0);
  const seconds = slices.reduce((sum, slice) => sum + slice.seconds, 0);
  return {
    requestsPerSecond: round(requests / seconds, 1),
    p50: round(percentile(sorted, 50), 3),
    p99: round(percentile(sorted, 99), 3),
    requests,
    seconds,
  };
}

/** Runs `requests` (cycled) for the settings' duration: one slice, summarized. */
export async function measure(
  label: string,
  url: string,
  requests: HttpRequest[],
  settings: LoadSettings,
): Promise<Sample> {
  return summarize([await measureSlice(label, url, requests, settings.durationSeconds, settings)]);
}

/**
 * Unmeasured load: `requests` (cycled) for `maxSeconds`, or until `amount` have been answered
 * if that comes first. A fresh server is warmed up by count: V8 optimises a function after
 * enough calls, so a count gives every server the same chance to reach its steady state, and
 * the time limit keeps a slow peer from stretching the run.
 */
export async function warmUp(
  label: string,
  url: string,
  requests: HttpRequest[],
  warm: { maxSeconds: number; amount?: number },
  settings: Pick<LoadSettings, 'connections' | 'pipelining'>,
): Promise<void> {
  let answered = 0;
  const result = await run(
    { ...options(url, requests, settings), duration: warm.maxSeconds },
    warm.amount === undefined
      ? undefined
      : (_ms, stop) => {
          answered += 1;
          if (answered === warm.amount) stop();
        },
  );
  assertClean(`${label} (warm-up)`, result);
}

/** Sends exactly `amount` requests (for the heap measurement, where the count matters). */
export async function drive(
  label: string,
  url: string,
  requests: HttpRequest[],
  amount: number,
  settings: Pick<LoadSettings, 'connections' | 'pipelining'>,
): Promise<void> {
  assertClean(label, await run({ ...options(url, requests, settings), amount }));
}
