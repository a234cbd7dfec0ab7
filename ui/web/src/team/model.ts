// Pure helpers of the team pages: business hours as the admin types them,
// the business numbers a queue serves, a temporary password for a new or
// reset user, and what the form checks before the server does (the server
// checks again and has the last word).
import { ApiError } from '../api';
import type { BusinessNumber, Hours } from './api';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

const SPAN = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$/;

/**
 * hoursText writes hours one weekday a line, as the form shows them:
 * "mon 09:00-13:00 14:00-18:00". Days without spans are left out.
 */
export function hoursText(h?: Hours): string {
  if (!h) return '';
  return WEEKDAYS.filter((d) => (h.open[d] ?? []).length > 0)
    .map((d) => `${d} ${h.open[d].join(' ')}`)
    .join('\n');
}

/**
 * parseHours reads the form's lines back. An empty text is no hours (the
 * queue is always open); a bad line is an error naming it.
 */
export function parseHours(text: string, timezone: string): { hours?: Hours; error?: string } {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length === 0) return {};
  if (!timezone.trim()) return { error: 'Business hours need a time zone, such as Europe/Dublin.' };
  const open: Record<string, string[]> = {};
  for (const line of lines) {
    const [day, ...spans] = line.toLowerCase().split(/\s+/);
    if (!(WEEKDAYS as readonly string[]).includes(day)) return { error: `"${line}": start the line with a weekday (mon, tue, wed, thu, fri, sat, sun).` };
    if (spans.length === 0) return { error: `"${line}": give the opening hours, such as ${day} 09:00-17:30.` };
    for (const s of spans) {
      if (!SPAN.test(s)) return { error: `"${s}" is not a time span such as 09:00-17:30.` };
    }
    open[day] = [...(open[day] ?? []), ...spans];
  }
  return { hours: { timezone: timezone.trim(), open } };
}

/** The rules the server holds for queue and canned ids (engine/inbox/model.go). */
export function idProblem(id: string): string {
  if (!id) return 'Give an id.';
  if (!/^[a-z0-9_]{1,64}$/.test(id)) return 'Use 1 to 64 lowercase letters, digits or _ (the queue a flow hands off to).';
  return '';
}

/**
 * temporaryPassword is a password for a new user or a reset, for the
 * admin to pass on: 16 characters from an alphabet without look-alikes,
 * from the browser's secure random source.
 */
export function temporaryPassword(random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = random(16);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** splitList reads "a, b  c" into ["a", "b", "c"]. */
export function splitList(s: string): string[] {
  return s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
}

/** NumberChoice is one business number the queue form offers. */
export interface NumberChoice {
  id: string;
  label: string;
  /** false for a number the queue names that Parley no longer serves: offered so it can be taken off. */
  served: boolean;
}

/** numberLabel names a business number as people know it: its display number, else its id. */
export function numberLabel(id: string, known: BusinessNumber[]): string {
  const n = known.find((x) => x.phone_number_id === id);
  return n?.display_phone_number ? `+${n.display_phone_number.replace(/^\+/, '')}` : id;
}

/**
 * numberChoices are the numbers the queue form offers: every number
 * Parley serves, in its order, then any the queue names that it no
 * longer serves.
 */
export function numberChoices(known: BusinessNumber[], selected: string[]): NumberChoice[] {
  const out: NumberChoice[] = known.map((n) => ({ id: n.phone_number_id!, label: numberLabel(n.phone_number_id!, known), served: true }));
  for (const id of selected) if (!out.some((c) => c.id === id)) out.push({ id, label: id, served: false });
  return out;
}

/** toggleNumber turns one number on or off, keeping the others (none left: every number). */
export function toggleNumber(selected: string[], id: string, on: boolean): string[] {
  const rest = selected.filter((x) => x !== id);
  return on ? [...rest, id] : rest;
}

/** numbersText says which numbers a queue serves: "All numbers" when it names none. */
export function numbersText(numbers: string[] | undefined, known: BusinessNumber[]): string {
  if (!numbers?.length) return 'All numbers';
  return numbers.map((id) => numberLabel(id, known)).join(', ');
}

/** plain says an API error in words a person acts on. */
export function plain(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 403) return 'Only admins may do this.';
    if (e.status === 503) return 'This server has no agents’ inbox, so there is nothing to manage here.';
    return e.message;
  }
  return (e as Error).message;
}
