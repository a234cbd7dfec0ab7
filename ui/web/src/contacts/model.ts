// The Contacts page's logic, apart from React: consent and window state in
// words, the CSV file read as the server reads it (to show a bad row's
// cells), and an import's answer turned into what the page shows.
import type { ContactItem, ImportAnswer, ImportProblem, ImportResult } from './api';

export type Tone = 'ok' | 'warn' | 'bad' | 'none';

/** consentState is a contact's effective consent in words. */
export function consentState(c: { opted_in: boolean; opted_out: boolean; marketing_opt_out: boolean }): { label: string; tone: Tone } {
  if (c.opted_out) return { label: 'opted out', tone: 'bad' };
  if (c.opted_in && c.marketing_opt_out) return { label: 'opted in · no marketing', tone: 'warn' };
  if (c.opted_in) return { label: 'opted in', tone: 'ok' };
  if (c.marketing_opt_out) return { label: 'not opted in · no marketing', tone: 'none' };
  return { label: 'not opted in', tone: 'none' };
}

// engine.WindowLength and engine.WindowMargin.
const windowMs = 24 * 3_600_000;
const marginMs = 60_000;

/**
 * windowFromInbound is the 24-hour window as the list can tell it from the
 * customer's last message: its close (with the engine's minute of margin)
 * and the seconds left. The contact's page has the server's own answer,
 * which also knows when Meta closed a window early.
 */
export function windowFromInbound(
  lastInbound: string | undefined,
  now: number,
  closedEarly?: string,
): { open: boolean; closesAt: number; remaining: number } | null {
  if (!lastInbound) return null;
  const t = Date.parse(lastInbound);
  if (Number.isNaN(t) || t <= 0) return null;
  // Meta said 131047 after the customer's last message: closed (engine/window.go).
  const early = closedEarly ? Date.parse(closedEarly) : NaN;
  if (!Number.isNaN(early) && early >= t) return { open: false, closesAt: early, remaining: 0 };
  const closesAt = t + windowMs - marginMs;
  return { open: now < closesAt, closesAt, remaining: Math.max(0, Math.floor((closesAt - now) / 1000)) };
}

export const kindLabels: Record<string, string> = {
  opt_in: 'opted in',
  opt_out: 'opted out',
  marketing_stop: 'stopped marketing',
  marketing_resume: 'resumed marketing',
};

export const sourceLabels: Record<string, string> = {
  web_form: 'web form',
  sms: 'SMS',
  in_chat: 'in the chat',
  import: 'import',
  api: 'API',
  keyword: 'keyword',
  whatsapp_preferences: 'WhatsApp settings',
  meta_error: "Meta's error",
};

/** The sources a person may record consent from (the others are the engine's). */
export const recordSources = ['web_form', 'sms', 'in_chat', 'api'];

export const blockLabels: Record<string, string> = {
  no_opt_in: 'no opt-in recorded',
  opted_out: 'opted out',
  marketing_opt_out: 'opted out of marketing',
  unreachable: 'unreachable (131026)',
  hold: 'marketing hold (131049)',
  limit: 'messaging limit reached',
  restricted: 'account restricted',
  template: 'template not sendable',
};

export const stageLabels: Record<string, string> = { flow: 'in a flow', dispatch: 'before sending', opt_out: 'cancelled by an opt-out' };

/** contactName is how a contact is named in a list. */
export const contactName = (c: Pick<ContactItem, 'name' | 'wa_id' | 'user_id' | 'key'>) => c.name || (c.wa_id ? '+' + c.wa_id : c.user_id || c.key);

// ---- CSV ----

/**
 * parseCSV reads CSV records as Go's encoding/csv does for the import:
 * quoted fields may hold commas, quotes ("") and line breaks; empty lines
 * are skipped (they are not rows); a byte order mark is dropped; leading
 * spaces of a field are trimmed. Record i is row i + 1 of the server's
 * problems (the header is row 1).
 */
export function parseCSV(text: string): string[][] {
  const s = text.replace(/^\uFEFF/, '');
  const out: string[][] = [];
  let rec: string[] = [];
  let field = '';
  let quoted = false;
  let started = false; // the field has begun (past its leading spaces)
  let lineHasContent = false;
  const endField = () => {
    rec.push(field);
    field = '';
    started = false;
  };
  const endRecord = () => {
    if (lineHasContent || rec.length > 0) {
      endField();
      out.push(rec);
    }
    rec = [];
    field = '';
    started = false;
    lineHasContent = false;
  };
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quoted) {
      if (ch === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else if (ch === '\r' && s[i + 1] === '\n') {
        field += '\n';
        i++;
      } else field += ch;
      continue;
    }
    if (ch === '"' && !started) {
      quoted = true;
      started = true;
      lineHasContent = true;
    } else if (ch === ',') {
      lineHasContent = true;
      endField();
    } else if (ch === '\n' || (ch === '\r' && s[i + 1] === '\n')) {
      if (ch === '\r') i++;
      endRecord();
    } else if ((ch === ' ' || ch === '\t') && !started) {
      lineHasContent = true; // a line of spaces is a record of one empty field
    } else {
      started = true;
      lineHasContent = true;
      field += ch;
    }
  }
  endRecord();
  return out;
}

export interface RowProblems {
  /** 0: the file as a whole. */
  row: number;
  /** the row's cells as read from the file, when known. */
  cells: string[] | null;
  problems: { column: string; message: string }[];
}

export type ImportView =
  | { kind: 'problems'; dryRun: boolean; rows: RowProblems[]; header: string[] | null; count: number; more: number; total: number; message: string }
  | { kind: 'summary'; dryRun: boolean; result: ImportResult; lines: string[] }
  | { kind: 'error'; message: string };

const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`;

/** summaryLines says what an import did, or would do. */
export function summaryLines(r: ImportResult): string[] {
  const would = r.dry_run;
  const lines = [
    `${plural(r.rows, 'row')} ${would ? 'checked: no problem' : 'imported'}.`,
    `${plural(r.created, 'contact')} ${would ? 'would be' : ''} created, ${r.updated} ${would ? 'would be' : ''} updated.`.replace(/\s+/g, ' '),
    `${plural(r.opt_ins, 'opt-in')} and ${plural(r.opt_outs, 'opt-out')} ${would ? 'would be' : ''} recorded.`.replace(/\s+/g, ' '),
  ];
  if (would) lines.push('Nothing is stored until you import.');
  return lines;
}

/** importView turns an import's answer into the problems by row (with their cells from the file), or its summary. */
export function importView(a: ImportAnswer, csv: string): ImportView {
  if (a.ok) return { kind: 'summary', dryRun: a.result.dry_run, result: a.result, lines: summaryLines(a.result) };
  const probs: ImportProblem[] = a.result?.problems ?? [];
  if (!probs.length) return { kind: 'error', message: a.error };
  let records: string[][] = [];
  try {
    records = parseCSV(csv);
  } catch {
    records = [];
  }
  const byRow = new Map<number, RowProblems>();
  for (const p of probs) {
    let r = byRow.get(p.row);
    if (!r) {
      const rec = p.row >= 1 ? records[p.row - 1] : undefined;
      r = { row: p.row, cells: rec ?? null, problems: [] };
      byRow.set(p.row, r);
    }
    r.problems.push({ column: p.column ?? '', message: p.message });
  }
  const rows = [...byRow.values()].sort((x, y) => x.row - y.row);
  const more = a.result?.more_problems ?? 0;
  return {
    kind: 'problems',
    dryRun: a.result?.dry_run ?? false,
    rows,
    header: records[0] ?? null,
    count: probs.length + more,
    more,
    total: a.result?.rows ?? 0,
    message: `${plural(probs.length + more, 'problem')} in ${plural(rows.length, 'row')}: nothing was imported. Fix the file and check it again.`,
  };
}

/** columnIndex is where a named column is in the header (case-insensitive), or -1; a column given by number ("3") is that one. */
export function columnIndex(header: string[] | null, column: string): number {
  if (!column) return -1;
  if (/^\d+$/.test(column)) return Number(column) - 1;
  if (!header) return -1;
  const c = column.toLowerCase();
  let i = header.findIndex((h) => h.trim().toLowerCase() === c);
  // phone and wa_id are one column to the server.
  if (i < 0 && c === 'phone') i = header.findIndex((h) => h.trim().toLowerCase() === 'wa_id');
  return i;
}
