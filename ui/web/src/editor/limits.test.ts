import { describe, expect, it } from 'vitest';
import { chars, counter, Limits, totalRows } from './limits';
import { joinDuration, parseDuration, splitDuration } from './duration';
import { quickCheck } from './fields';

describe('character counters', () => {
  it('counts code points, as Meta does', () => {
    expect(chars('héllo')).toBe(5);
    expect(chars('👍👍')).toBe(2);
    expect(chars(undefined)).toBe(0);
  });
  const cases: [string, number, string][] = [
    ['a'.repeat(17), Limits.buttonTitle, 'ok'],
    ['a'.repeat(18), Limits.buttonTitle, 'near'],
    ['a'.repeat(20), Limits.buttonTitle, 'near'],
    ['a'.repeat(21), Limits.buttonTitle, 'over'],
    ['🎉'.repeat(24), Limits.rowTitle, 'near'],
    ['🎉'.repeat(25), Limits.rowTitle, 'over'],
  ];
  for (const [s, limit, state] of cases) {
    it(`${chars(s)}/${limit} is ${state}`, () => expect(counter(s, limit).state).toBe(state));
  }
  it('counts list rows over all sections', () => {
    expect(totalRows([{ rows: [1, 2] }, { rows: [3] }])).toBe(3);
    expect(totalRows(undefined)).toBe(0);
  });
  it('has the schema limits', () => {
    expect(Limits).toMatchObject({ text: 4096, interactiveBody: 1024, buttonTitle: 20, rowTitle: 24, rowDescription: 72, maxRows: 10, header: 60, footer: 60 });
  });
});

describe('durations', () => {
  const parsed: [string, number | null][] = [
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['25h', 90_000_000],
    ['1.5h', 5_400_000],
    ['0', 0],
    ['', null],
    ['3d', null],
    ['h', null],
  ];
  for (const [s, ms] of parsed) it(`parses ${JSON.stringify(s)}`, () => expect(parseDuration(s)).toBe(ms));
  it('splits into one number and unit', () => {
    expect(splitDuration('48h')).toEqual({ n: 2, unit: 'd' });
    expect(splitDuration('25h')).toEqual({ n: 25, unit: 'h' });
    expect(splitDuration('90m')).toEqual({ n: 90, unit: 'm' });
    expect(splitDuration('1h30m')).toEqual({ n: 90, unit: 'm' });
    expect(splitDuration('1.5s')).toBeNull();
    expect(splitDuration(undefined)).toBeNull();
  });
  it('joins as a Go duration', () => {
    expect(joinDuration(2, 'd')).toBe('48h');
    expect(joinDuration(30, 'm')).toBe('30m');
    expect(joinDuration(0, 'h')).toBe('');
  });
});

describe('expression quick check', () => {
  const cases: [string, string][] = [
    ["reply.button_id == 'yes'", ''],
    ['has_any(reply.text, ["a", "b"])', ''],
    ['(1 + 2', 'unclosed ('],
    ["'abc", "unclosed '"],
    ['a)', 'unexpected )'],
    ["'(' == x", ''],
  ];
  for (const [s, want] of cases) it(JSON.stringify(s), () => expect(quickCheck(s)).toBe(want));
});
