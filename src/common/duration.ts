const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parses a lifetime such as `900` (seconds), `90s`, `15m`, `12h` or `7d` into whole seconds.
 * Small enough not to warrant a dependency, and stricter than `ms` (which reads a bare number
 * as milliseconds, the opposite of what these settings mean).
 */
export function parseDurationSeconds(value: string): number | undefined {
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/i.exec(value);
  if (!match) return undefined;
  const unit = (match[2] || 's').toLowerCase();
  return Number(match[1]) * UNIT_SECONDS[unit]!;
}
