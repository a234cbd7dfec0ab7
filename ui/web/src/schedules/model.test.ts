import { describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import {
  describeCron,
  errorFor,
  fieldError,
  formOf,
  formatZoned,
  inputOf,
  isoOffset,
  offsetText,
  pending,
  resize,
  sortedEntries,
  zonedParts,
} from './model';
import { relative } from '../templates/format';
import type { Schedule } from './api';

describe('times in a zone', () => {
  it('reads the offset an RFC 3339 time was written with', () => {
    expect(isoOffset('2026-01-06T02:30:00+01:00')).toBe(60);
    expect(isoOffset('2026-01-06T02:30:00.123-03:30')).toBe(-210);
    expect(isoOffset('2026-01-06T02:30:00Z')).toBe(0);
    expect(isoOffset('2026-01-06T02:30:00')).toBeNull();
  });

  it("shows fire times in the schedule's zone, across both DST transitions", () => {
    // 09:00 in Berlin: CET in winter, CEST in summer.
    expect(formatZoned('2026-01-05T08:00:00Z', 'Europe/Berlin')).toBe('Mon 5 Jan 2026, 09:00 (UTC+1)');
    expect(formatZoned('2026-03-30T07:00:00Z', 'Europe/Berlin')).toBe('Mon 30 Mar 2026, 09:00 (UTC+2)');
    // Spring forward: 01:59:59 CET is followed by 03:00 CEST.
    expect(formatZoned('2026-03-29T01:00:00Z', 'Europe/Berlin')).toBe('Sun 29 Mar 2026, 03:00 (UTC+2)');
    // Fall back: 02:30 happens twice, once in each offset.
    expect(formatZoned('2026-10-25T00:30:00Z', 'Europe/Berlin')).toBe('Sun 25 Oct 2026, 02:30 (UTC+2)');
    expect(formatZoned('2026-10-25T01:30:00Z', 'Europe/Berlin')).toBe('Sun 25 Oct 2026, 02:30 (UTC+1)');
    expect(formatZoned('2026-03-08T07:00:00Z', 'America/New_York')).toBe('Sun 8 Mar 2026, 03:00 (UTC-4)');
    expect(formatZoned('2026-01-05T08:00:00Z', 'Asia/Kolkata')).toBe('Mon 5 Jan 2026, 13:30 (UTC+5:30)');
  });

  it('agrees with the offset the API wrote, and falls back on it', () => {
    const iso = '2026-01-06T02:30:00+01:00';
    expect(formatZoned(iso, 'Europe/Berlin')).toBe(formatZoned(iso));
    expect(formatZoned(iso, 'Not/AZone')).toBe('Tue 6 Jan 2026, 02:30 (UTC+1)');
    expect(formatZoned(iso, 'UTC', { offset: false })).toBe('Tue 6 Jan 2026, 01:30');
    expect(zonedParts('not a time', 'UTC')).toBeNull();
    expect(formatZoned(undefined)).toBe('');
  });

  it('writes offsets and relative times', () => {
    expect(offsetText(0)).toBe('UTC');
    expect(offsetText(-300)).toBe('UTC-5');
    expect(offsetText(345)).toBe('UTC+5:45');
    const now = Date.parse('2026-01-05T08:00:00Z');
    expect(relative('2026-01-05T11:00:00Z', now)).toBe('in 3 h');
    expect(relative('2026-01-08T08:00:00Z', now)).toBe('in 3 days');
    expect(relative('2026-01-05T07:55:00Z', now)).toBe('5 min ago');
    expect(relative('2026-01-05T08:00:20Z', now)).toBe('in less than a minute');
  });
});

describe('describeCron', () => {
  it.each([
    ['0 9 * * *', 'every day at 09:00'],
    ['30 8 * * 1-5', 'Monday to Friday at 08:30'],
    ['0 9 * * MON', 'every Monday at 09:00'],
    ['0 18 * * 1,3,5', 'Mondays, Wednesdays and Fridays at 18:00'],
    ['0 9 1 * *', 'on the 1st of every month at 09:00'],
    ['0 9 22 * *', 'on the 22nd of every month at 09:00'],
    ['15 * * * *', 'every hour at minute 15'],
    ['@daily', 'every day at 00:00'],
    ['@every 90m', 'every 90m of elapsed time (no time zone)'],
    ['*/5 * * * *', ''],
    ['0 9 * 1 *', ''],
    ['0 25 * * *', ''],
    ['nonsense', ''],
  ])('%s', (expr, want) => {
    expect(describeCron(expr)).toBe(want);
  });
});

describe('the form', () => {
  it('sends only the chosen action, trimmed', () => {
    const f = formOf(null, 'Europe/Berlin');
    expect(f.timezone).toBe('Europe/Berlin');
    const flow = inputOf({ ...f, name: ' Reminder ', flow: 'promo ', template: { name: 'x', language: 'en' }, audience: ' "vip" in tags ' });
    expect(flow).toEqual({ name: 'Reminder', cron: '0 9 * * *', timezone: 'Europe/Berlin', action: { kind: 'start_flow', flow: 'promo' }, audience: '"vip" in tags', busy: 'skip' });
    const tmpl = inputOf({ ...f, name: 'R', kind: 'send_template', flow: 'promo', template: { name: 'appointment', language: 'en_US', body: ['{{ name }}', ''] }, timezone: ' ' });
    expect(tmpl.action).toEqual({ kind: 'send_template', template: { name: 'appointment', language: 'en_US', body: ['{{ name }}', ''] } });
    expect(tmpl.timezone).toBe('UTC');
  });

  it('round-trips a stored schedule', () => {
    const s = {
      id: 's1', name: 'N', cron: '@daily', timezone: 'Asia/Kolkata', audience: 'opted_in',
      action: { kind: 'send_template', template: { name: 't', language: 'en', body: ['{{ fields.slot }}'] } },
      busy: 'skip', paused: false, created_at: '', updated_at: '', cursor: '', next_fires: [],
    } as Schedule;
    const f = formOf(s, 'UTC');
    expect(inputOf(f)).toEqual({ name: 'N', cron: '@daily', timezone: 'Asia/Kolkata', audience: 'opted_in', busy: 'skip', action: s.action });
  });

  it('resizes parameter lists', () => {
    expect(resize(['a', 'b', 'c'], 2)).toEqual(['a', 'b']);
    expect(resize(undefined, 2)).toEqual(['', '']);
  });
});

describe('errors', () => {
  it('reads the field at fault from a 400', () => {
    const e = new ApiError(400, 'audience: unexpected token', { error: 'audience: unexpected token', field: 'audience', message: 'unexpected token' });
    expect(fieldError(e)).toEqual({ field: 'audience', message: 'unexpected token' });
    expect(fieldError(new ApiError(503, 'schedules are not available', { error: 'schedules are not available' }))).toEqual({ field: '', message: 'schedules are not available' });
    expect(fieldError(new Error('offline'))).toEqual({ field: '', message: 'offline' });
  });

  it('places an error on its field or a parent of it', () => {
    const err = { field: 'action.template.body[0]', message: 'bad' };
    expect(errorFor(err, 'action.template')).toBe('bad');
    expect(errorFor(err, 'action.template.body[0]')).toBe('bad');
    expect(errorFor(err, 'action.flow')).toBe('');
    expect(errorFor({ field: 'cron', message: 'm' }, 'cron')).toBe('m');
    expect(errorFor({ field: 'cron', message: 'm' }, 'cr')).toBe('');
    expect(errorFor({ field: '', message: 'm' }, 'cron')).toBe('');
    expect(errorFor(null, 'cron')).toBe('');
  });
});

describe('reports', () => {
  it('counts what a firing has not considered yet', () => {
    expect(pending({ audience: 10, sent: 4, skipped: { no_consent: 2, opted_out: 1 }, failed: { error: 1 } })).toBe(2);
    expect(pending({ audience: 3, sent: 3, skipped: null, failed: null })).toBe(0);
  });
  it('sorts count maps, largest first, without zeros', () => {
    expect(sortedEntries({ a: 1, b: 5, c: 0, d: 1 })).toEqual([['b', 5], ['a', 1], ['d', 1]]);
    expect(sortedEntries(undefined)).toEqual([]);
  });
});
