// Small display helpers shared by the Templates and Contacts pages: times
// in the browser's zone, how long ago or ahead, and durations.

const timeFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** formatTime is an RFC 3339 time in the browser's zone ("5 Jan 2026, 10:00"); "" for none. */
export function formatTime(iso: string | undefined | null): string {
  if (!iso) return '';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms) || ms <= 0) return '';
  return timeFmt.format(new Date(ms));
}

/** duration writes a number of seconds as "2 h 05 min", "4 min 10 s", "40 s". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${s} s`;
}

/** relative is how far an instant is from now: "in 3 h", "5 min ago". */
export function relative(iso: string | undefined | null, now: number): string {
  if (!iso) return '';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  const d = ms - now;
  const a = Math.abs(d);
  let s: string;
  if (a < 60_000) return d >= 0 ? 'in less than a minute' : 'just now';
  if (a < 3_600_000) s = `${Math.round(a / 60_000)} min`;
  else if (a < 48 * 3_600_000) s = `${Math.round(a / 3_600_000)} h`;
  else s = `${Math.round(a / 86_400_000)} days`;
  return d >= 0 ? `in ${s}` : `${s} ago`;
}
