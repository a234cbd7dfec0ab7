import { describe, expect, it } from 'vitest';
import { columnIndex, consentState, importView, parseCSV, summaryLines, windowFromInbound } from './model';
import type { ImportResult } from './api';

describe('reading the CSV file as the server does', () => {
  it('reads quoted fields with commas, quotes and line breaks', () => {
    expect(parseCSV('a,b,c\n1,"x, y","he said ""hi"""\n2,"two\nlines",z\n')).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, y', 'he said "hi"'],
      ['2', 'two\nlines', 'z'],
    ]);
  });
  it('skips empty lines, drops a byte order mark, reads CRLF, trims leading spaces', () => {
    expect(parseCSV('\uFEFFphone,name\r\n\r\n+491,  Ann\r\n\n+492,Bob')).toEqual([
      ['phone', 'name'],
      ['+491', 'Ann'],
      ['+492', 'Bob'],
    ]);
  });
  it('keeps a line of spaces as a record (the server counts it, then skips it)', () => {
    expect(parseCSV('a\n   \nb\n')).toEqual([['a'], [''], ['b']]);
  });
  it('keeps empty cells', () => {
    expect(parseCSV('a,b,c\n,,\n')).toEqual([
      ['a', 'b', 'c'],
      ['', '', ''],
    ]);
  });
});

const csv = 'phone,name,opted_in,opted_in_at\n+4915100000001,Ann,true,2026-01-05\n+4915100000002,"Bob, Jr",maybe,2026-01-05\n+4915100000003,Cem,true,yesterday\n';

describe('an import answer, as the page shows it', () => {
  it('groups the problems by row, with the cells from the file and the bad columns', () => {
    const v = importView(
      {
        ok: false,
        status: 422,
        error: 'the import has problems; nothing was imported',
        result: {
          dry_run: true,
          rows: 3,
          created: 0,
          updated: 0,
          opt_ins: 0,
          opt_outs: 0,
          problems: [
            { row: 4, column: 'opted_in_at', message: '"yesterday" is not a time (2026-01-05T10:00:00Z, or 2026-01-05)' },
            { row: 3, column: 'opted_in', message: '"maybe" is not true or false' },
          ],
        },
      },
      csv,
    );
    expect(v.kind).toBe('problems');
    if (v.kind !== 'problems') return;
    expect(v.rows.map((r) => r.row)).toEqual([3, 4]);
    expect(v.rows[0].cells).toEqual(['+4915100000002', 'Bob, Jr', 'maybe', '2026-01-05']);
    expect(v.rows[0].problems).toEqual([{ column: 'opted_in', message: '"maybe" is not true or false' }]);
    expect(columnIndex(v.header, 'opted_in')).toBe(2);
    expect(columnIndex(v.header, 'OPTED_IN_AT')).toBe(3);
    expect(v.message).toBe('2 problems in 2 rows: nothing was imported. Fix the file and check it again.');
    expect(v.dryRun).toBe(true);
  });

  it('counts the problems past the cap', () => {
    const v = importView({ ok: false, status: 422, error: 'x', result: { dry_run: false, rows: 500, created: 0, updated: 0, opt_ins: 0, opt_outs: 0, problems: [{ row: 2, message: 'bad' }], more_problems: 250 } }, 'phone\n1\n');
    expect(v.kind === 'problems' && v.count).toBe(251);
    expect(v.kind === 'problems' && v.more).toBe(250);
  });

  it('knows header problems and a column given by number', () => {
    expect(columnIndex(['phone', ''], '2')).toBe(1);
    expect(columnIndex(['wa_id', 'name'], 'phone')).toBe(0);
    expect(columnIndex(null, 'name')).toBe(-1);
    expect(columnIndex(['a'], '')).toBe(-1);
  });

  it('shows an error without problems as an error', () => {
    expect(importView({ ok: false, status: 415, error: 'send the contacts as text/csv', result: null }, '')).toEqual({ kind: 'error', message: 'send the contacts as text/csv' });
  });

  it('says what a dry run would do, and what an import did', () => {
    const r: ImportResult = { dry_run: true, rows: 3, created: 2, updated: 1, opt_ins: 3, opt_outs: 0 };
    expect(summaryLines(r)).toEqual(['3 rows checked: no problem.', '2 contacts would be created, 1 would be updated.', '3 opt-ins and 0 opt-outs would be recorded.', 'Nothing is stored until you import.']);
    expect(summaryLines({ ...r, dry_run: false, rows: 1, created: 1, updated: 0, opt_ins: 1 })).toEqual(['1 row imported.', '1 contact created, 0 updated.', '1 opt-in and 0 opt-outs recorded.']);
    const v = importView({ ok: true, result: r }, '');
    expect(v.kind === 'summary' && v.dryRun).toBe(true);
  });
});

describe('consent and window in words', () => {
  it('names the consent state', () => {
    const c = (opted_in: boolean, opted_out: boolean, marketing_opt_out = false) => consentState({ opted_in, opted_out, marketing_opt_out }).label;
    expect([c(true, false), c(true, true), c(false, false), c(true, false, true)]).toEqual(['opted in', 'opted out', 'not opted in', 'opted in · no marketing']);
  });
  it('tells the window from the last message, less the engine margin', () => {
    const now = Date.parse('2026-01-05T12:00:00Z');
    expect(windowFromInbound(undefined, now)).toBeNull();
    expect(windowFromInbound('2026-01-05T10:00:00Z', now)).toEqual({ open: true, closesAt: Date.parse('2026-01-06T09:59:00Z'), remaining: 22 * 3600 - 60 });
    expect(windowFromInbound('2026-01-04T11:59:30Z', now)?.open).toBe(false);
    // Meta closed it early (131047 after the last message); an older 131047 does not count.
    expect(windowFromInbound('2026-01-05T10:00:00Z', now, '2026-01-05T11:00:00Z')?.open).toBe(false);
    expect(windowFromInbound('2026-01-05T10:00:00Z', now, '2026-01-05T09:00:00Z')?.open).toBe(true);
  });
});
