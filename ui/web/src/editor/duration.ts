// Go durations ("30m", "1h30m", "25h") as the flow format writes them,
// and the number-and-unit form the editor shows.

const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** parseDuration returns milliseconds, or null when s is no Go duration. */
export function parseDuration(s: string): number | null {
  const t = s.trim();
  if (t === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let pos = 0;
  let total = 0;
  if (!t) return null;
  while (pos < t.length) {
    re.lastIndex = pos;
    const m = re.exec(t);
    if (!m) return null;
    total += Number(m[1]) * unitMs[m[2]];
    pos = re.lastIndex;
  }
  return total;
}

export const DurationUnits = ['s', 'm', 'h', 'd'] as const;
export type DurationUnit = (typeof DurationUnits)[number];

/** splitDuration shows a duration as one number and unit when it is one, else null. */
export function splitDuration(s: string | undefined): { n: number; unit: DurationUnit } | null {
  if (!s) return null;
  const ms = parseDuration(s);
  if (ms === null || ms <= 0) return null;
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return { n: ms / size, unit };
  }
  return null;
}

/** joinDuration writes n units as a Go duration (days as hours: Go has no d). */
export function joinDuration(n: number, unit: DurationUnit): string {
  if (!Number.isFinite(n) || n <= 0) return '';
  if (unit === 'd') return `${n * 24}h`;
  return `${n}${unit}`;
}
