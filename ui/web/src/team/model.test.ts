import { describe, expect, it } from 'vitest';
import { hoursText, idProblem, parseHours, splitList, temporaryPassword } from './model';

describe('business hours', () => {
  it.each([
    ['empty is always open', '', 'Europe/Dublin', {}],
    ['one day', 'mon 09:00-17:00', 'Europe/Dublin', { hours: { timezone: 'Europe/Dublin', open: { mon: ['09:00-17:00'] } } }],
    ['two spans, upper case', 'TUE 09:00-12:00 13:00-17:30', 'UTC', { hours: { timezone: 'UTC', open: { tue: ['09:00-12:00', '13:00-17:30'] } } }],
    ['a day twice adds its spans', 'sat 09:00-10:00\nsat 11:00-12:00', 'UTC', { hours: { timezone: 'UTC', open: { sat: ['09:00-10:00', '11:00-12:00'] } } }],
  ])('%s', (_name, text, tz, want) => {
    expect(parseHours(text, tz)).toEqual(want);
  });

  it.each([
    ['no time zone', 'mon 09:00-17:00', '', 'time zone'],
    ['not a weekday', 'monday 09:00-17:00', 'UTC', 'weekday'],
    ['no spans', 'mon', 'UTC', 'opening hours'],
    ['bad span', 'mon 9-17', 'UTC', 'not a time span'],
  ])('refuses %s', (_name, text, tz, want) => {
    expect(parseHours(text, tz).error).toContain(want);
  });

  it('writes what it reads, in weekday order', () => {
    const text = 'fri 10:00-11:00\nmon 09:00-17:00 18:00-19:00';
    expect(hoursText(parseHours(text, 'UTC').hours)).toBe('mon 09:00-17:00 18:00-19:00\nfri 10:00-11:00');
  });
});

describe('ids, lists and passwords', () => {
  it('checks ids as the server does', () => {
    expect(idProblem('sales_eu')).toBe('');
    expect(idProblem('')).toContain('Give');
    expect(idProblem('Sales')).toContain('lowercase');
  });
  it('splits lists on commas and spaces', () => {
    expect(splitList(' sales, support  vip,,')).toEqual(['sales', 'support', 'vip']);
  });
  it('makes 16-character passwords without look-alikes', () => {
    const p = temporaryPassword();
    expect(p).toHaveLength(16);
    expect(p).not.toMatch(/[01lIoO]/);
    expect(temporaryPassword(() => new Uint8Array(16))).toBe('a'.repeat(16));
  });
});
