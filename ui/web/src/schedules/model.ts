// The schedules page's logic, apart from React: times shown in a
// schedule's zone, cron expressions in words, the form ↔ API body, the
// API's field errors, and a firing's report sums.
import { ApiError } from '../api';
import type { ActionKind, Counts, Schedule, ScheduleInput, ScheduleTemplate } from './api';

// ---- times in a zone ----

export interface ZonedParts {
  year: number;
  month: number; // 1–12
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number; // 0 = Sunday
  /** minutes east of UTC at that instant in that zone */
  offset: number;
}

const fmts = new Map<string, Intl.DateTimeFormat>();
function partsFormat(zone: string): Intl.DateTimeFormat {
  let f = fmts.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
    fmts.set(zone, f);
  }
  return f;
}

/** isoOffset is the offset written in an RFC 3339 time, in minutes (null if none). */
export function isoOffset(iso: string): number | null {
  const m = /(Z|[+-]\d{2}:\d{2})$/.exec(iso.trim());
  if (!m) return null;
  if (m[1] === 'Z') return 0;
  const sign = m[1][0] === '-' ? -1 : 1;
  return sign * (Number(m[1].slice(1, 3)) * 60 + Number(m[1].slice(4, 6)));
}

/**
 * zonedParts is the wall-clock time of an instant in an IANA zone. With no
 * zone (or one the browser does not know), the offset the time was written
 * with is used: the API writes fire times in the schedule's zone.
 */
export function zonedParts(iso: string, zone?: string): ZonedParts | null {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return null;
  const whole = Math.floor(ms / 1000) * 1000;
  if (zone) {
    try {
      const p: Record<string, number> = {};
      for (const x of partsFormat(zone).formatToParts(new Date(whole))) {
        if (x.type !== 'literal') p[x.type] = Number(x.value);
      }
      const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second);
      return { year: p.year, month: p.month, day: p.day, hour: p.hour % 24, minute: p.minute, second: p.second, weekday: new Date(wall).getUTCDay(), offset: Math.round((wall - whole) / 60000) };
    } catch {
      /* an unknown zone: fall back on the written offset */
    }
  }
  const offset = isoOffset(iso) ?? 0;
  const d = new Date(whole + offset * 60000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
    offset,
  };
}

export const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const weekdayNames = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** offsetText: "UTC", "UTC+1", "UTC-3:30". */
export function offsetText(min: number): string {
  if (min === 0) return 'UTC';
  const a = Math.abs(min);
  return `UTC${min < 0 ? '-' : '+'}${Math.floor(a / 60)}${a % 60 ? ':' + pad(a % 60) : ''}`;
}

/** formatZoned: "Mon 5 Jan 2026, 09:00 (UTC+1)" — the instant's wall time in zone. */
export function formatZoned(iso: string | undefined, zone?: string, opts: { seconds?: boolean; offset?: boolean } = {}): string {
  if (!iso) return '';
  const p = zonedParts(iso, zone);
  if (!p) return iso;
  const time = `${pad(p.hour)}:${pad(p.minute)}${opts.seconds ? ':' + pad(p.second) : ''}`;
  const s = `${weekdays[p.weekday]} ${p.day} ${months[p.month - 1]} ${p.year}, ${time}`;
  return opts.offset === false ? s : `${s} (${offsetText(p.offset)})`;
}


/** browserZone is the browser's own IANA zone (UTC if unknown). */
export function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** zoneNames lists the IANA zones the browser knows, for suggestions. */
export function zoneNames(): string[] {
  const sv = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf;
  const list = sv ? sv('timeZone') : ['Europe/Berlin', 'Europe/London', 'America/New_York', 'America/Sao_Paulo', 'Asia/Kolkata', 'Asia/Jakarta'];
  return list.includes('UTC') ? list : ['UTC', ...list];
}

// ---- cron in words ----

export const cronPresets: { label: string; cron: string }[] = [
  { label: 'Every day at 09:00', cron: '0 9 * * *' },
  { label: 'Weekdays at 09:00', cron: '0 9 * * 1-5' },
  { label: 'Mondays at 09:00', cron: '0 9 * * 1' },
  { label: '1st of the month at 09:00', cron: '0 9 1 * *' },
  { label: 'Every hour', cron: '@hourly' },
];

const dowNames: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
function dowOf(s: string): number | null {
  const k = s.toLowerCase();
  if (k in dowNames) return dowNames[k];
  if (/^[0-7]$/.test(k)) return Number(k) % 7;
  return null;
}

function daysText(dow: string): string | null {
  if (dow === '*' || dow === '?') return 'every day';
  const range = /^(\w+)-(\w+)$/.exec(dow);
  if (range) {
    const a = dowOf(range[1]);
    const b = dowOf(range[2]);
    if (a === 1 && b === 5) return 'Monday to Friday';
    if (a !== null && b !== null) return `${weekdayNames[a]} to ${weekdayNames[b]}`;
    return null;
  }
  const list = dow.split(',').map(dowOf);
  if (list.some((x) => x === null)) return null;
  const names = list.map((x) => weekdayNames[x as number] + 's');
  return names.length === 1 ? `every ${names[0].slice(0, -1)}` : names.slice(0, -1).join(', ') + ' and ' + names[names.length - 1];
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `${n}${s}`;
}

/**
 * describeCron says a cron expression in words for the common shapes
 * ("every day at 09:00", "Monday to Friday at 08:30"); '' when it does not
 * know how (the preview of fire times says it anyway).
 */
export function describeCron(expr: string): string {
  const e = expr.trim();
  if (e.startsWith('@')) {
    const [d, ...rest] = e.split(/\s+/);
    switch (d.toLowerCase()) {
      case '@yearly':
      case '@annually':
        return 'every year on 1 January at 00:00';
      case '@monthly':
        return 'on the 1st of every month at 00:00';
      case '@weekly':
        return 'every Sunday at 00:00';
      case '@daily':
      case '@midnight':
        return 'every day at 00:00';
      case '@hourly':
        return 'every hour, on the hour';
      case '@every':
        return rest.length ? `every ${rest.join(' ')} of elapsed time (no time zone)` : '';
    }
    return '';
  }
  const f = e.split(/\s+/);
  if (f.length !== 5) return '';
  const [min, hour, dom, mon, dow] = f;
  const num = (s: string, lo: number, hi: number) => /^\d{1,2}$/.test(s) && Number(s) >= lo && Number(s) <= hi;
  if (!num(min, 0, 59)) return '';
  if (hour === '*' && dom === '*' && mon === '*' && dow === '*') return Number(min) === 0 ? 'every hour, on the hour' : `every hour at minute ${Number(min)}`;
  if (!num(hour, 0, 23) || mon !== '*') return '';
  const at = `at ${pad(Number(hour))}:${pad(Number(min))}`;
  if (dom === '*' || dom === '?') {
    const days = daysText(dow);
    return days ? `${days} ${at}` : '';
  }
  if (num(dom, 1, 31) && (dow === '*' || dow === '?')) return `on the ${ordinal(Number(dom))} of every month ${at}`;
  return '';
}

// ---- the form ----

export interface Form {
  name: string;
  cron: string;
  timezone: string;
  kind: ActionKind;
  flow: string;
  template: ScheduleTemplate;
  audience: string;
}

export function formOf(s: Schedule | null, zone: string): Form {
  if (!s) {
    return { name: '', cron: '0 9 * * *', timezone: zone, kind: 'start_flow', flow: '', template: { name: '', language: '' }, audience: 'opted_in' };
  }
  return {
    name: s.name,
    cron: s.cron,
    timezone: s.timezone || 'UTC',
    kind: s.action.kind === 'send_template' ? 'send_template' : 'start_flow',
    flow: s.action.flow ?? '',
    template: s.action.template ?? { name: '', language: '' },
    audience: s.audience ?? '',
  };
}

/** inputOf is the API body of a form: only the chosen action's part. */
export function inputOf(f: Form): ScheduleInput {
  const action =
    f.kind === 'start_flow'
      ? { kind: f.kind, flow: f.flow.trim() }
      : {
          kind: f.kind,
          template: {
            name: f.template.name.trim(),
            language: f.template.language.trim(),
            ...(f.template.header?.length ? { header: f.template.header } : {}),
            ...(f.template.body?.length ? { body: f.template.body } : {}),
            ...(f.template.buttons?.length ? { buttons: f.template.buttons } : {}),
            ...(f.template.cards?.length ? { cards: f.template.cards } : {}),
            ...(f.template.offer_expires_at !== undefined ? { offer_expires_at: f.template.offer_expires_at } : {}),
          },
        };
  return { name: f.name.trim(), cron: f.cron.trim(), timezone: f.timezone.trim() || 'UTC', action, audience: f.audience.trim(), busy: 'skip' };
}

/** resize makes a parameter list exactly n long. */
export function resize(list: string[] | undefined, n: number): string[] {
  const out = (list ?? []).slice(0, n);
  while (out.length < n) out.push('');
  return out;
}

// ---- errors ----

export interface FieldError {
  /** the field at fault ("cron", "audience", "action.template.body[0]"), '' when the error is the whole request's. */
  field: string;
  message: string;
}

/** fieldError reads the API's {error, field, message} (400 of an invalid schedule). */
export function fieldError(e: unknown): FieldError {
  if (e instanceof ApiError && e.body && typeof e.body === 'object') {
    const b = e.body as { field?: unknown; message?: unknown };
    if (typeof b.field === 'string' && b.field) return { field: b.field, message: typeof b.message === 'string' ? b.message : e.message };
  }
  return { field: '', message: e instanceof Error ? e.message : String(e) };
}

/** errorFor is err's message when it is about field (or a part of it: "action.template" covers "action.template.body[0]"). */
export function errorFor(err: FieldError | null, field: string): string {
  if (!err || !err.field) return '';
  const f = err.field;
  return f === field || f.startsWith(field + '.') || f.startsWith(field + '[') ? err.message : '';
}

// ---- reports ----

export const sum = (m: Record<string, number> | null | undefined) => Object.values(m ?? {}).reduce((a, b) => a + b, 0);

/** pending is how many of the audience a firing has not considered yet (running or waiting). */
export function pending(c: Counts): number {
  return Math.max(0, c.audience - c.sent - sum(c.skipped) - sum(c.failed));
}

export const skipLabels: Record<string, string> = {
  no_consent: 'not opted in',
  opted_out: 'opted out',
  marketing_opt_out: 'opted out of marketing',
  held: 'marketing hold (131049)',
  unreachable: 'unreachable (131026)',
  busy: 'in a running conversation',
  audience_error: 'audience expression failed on the contact',
};

export const failLabels: Record<string, string> = {
  flow_failed: 'the flow failed at once',
  not_sendable: 'the engine refused the template',
  param_error: 'a parameter expression failed',
  error: 'error (see the server log)',
};

export const metaCodes: Record<string, string> = {
  blocked: 'refused by Parley before sending',
  '131026': 'message undeliverable',
  '131047': 're-engagement: the 24-hour window had closed',
  '131049': 'held back by Meta (marketing)',
  '131050': 'the customer stopped marketing messages',
  '131056': 'too many messages to this customer',
  '130429': 'throughput limit',
  '131048': 'spam rate limit',
  '132015': 'template paused',
  '132016': 'template disabled',
};

/** sortedEntries: a count map, largest first. */
export function sortedEntries(m: Record<string, number> | null | undefined): [string, number][] {
  return Object.entries(m ?? {})
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export const activeStatus = (s: string) => s === 'running' || s === 'waiting';
