// The contacts and consent APIs (ui/api_contacts.go, ui/api_consent.go,
// GET /contacts/:key in ui/api_conversations.go) as the Contacts page uses
// them. Times are RFC 3339 strings.
import { api, ApiError, enc, get, post } from '../api';

/** ContactItem is a contact in the listing. */
export interface ContactItem {
  key: string;
  phone_number_id: string;
  wa_id?: string;
  user_id?: string;
  name?: string;
  language?: string;
  tags: string[];
  fields: Record<string, unknown>;
  opted_in: boolean;
  opted_out: boolean;
  marketing_opt_out: boolean;
  unreachable: boolean;
  last_inbound_at?: string;
  /** Meta closed the window early (a late 131047). */
  window_closed_at?: string;
}

export interface ConsentEvent {
  at: string;
  kind: 'opt_in' | 'opt_out' | 'marketing_stop' | 'marketing_resume' | string;
  source: string;
  purpose?: string;
  by?: string;
  detail?: string;
}

export interface Block {
  at: string;
  reason: string;
  detail: string;
  stage: string;
  conversation?: string;
  node?: string;
  template?: string;
}

export interface WindowView {
  open: boolean;
  expires_at?: string;
  remaining_seconds: number;
}

export interface Policy {
  window: WindowView;
  opted_in: boolean;
  opted_out: boolean;
  marketing_opt_out: boolean;
  consent: ConsentEvent[];
  unreachable: boolean;
  unreachable_at?: string;
  unreachable_reason?: string;
  held: boolean;
  hold_until?: string;
  blocks: Block[];
}

export interface Contact {
  key: string;
  phone_number_id: string;
  wa_id?: string;
  user_id?: string;
  name?: string;
  language?: string;
  tags?: string[];
  fields?: Record<string, unknown>;
  opted_in_at?: string;
  last_inbound_at?: string;
  conversation?: string;
}

export interface ConversationItem {
  id: string;
  contact: string;
  flow: string;
  version: number;
  node: string;
  status: string;
  reason?: string;
  started_at: string;
  last_activity_at: string;
}

export interface ContactDetail {
  contact: Contact;
  window: WindowView;
  policy: Policy;
  conversations: ConversationItem[];
}

export interface ConsentInput {
  kind: string;
  source: string;
  purpose: string;
}

export interface ImportProblem {
  row: number;
  column?: string;
  message: string;
}

export interface ImportResult {
  dry_run: boolean;
  rows: number;
  created: number;
  updated: number;
  opt_ins: number;
  opt_outs: number;
  problems?: ImportProblem[];
  more_problems?: number;
}

export interface ListQuery {
  after?: string;
  limit?: number;
  tag?: string;
  /** "" for any. */
  optedIn?: '' | 'true' | 'false';
}

export function listContacts(q: ListQuery) {
  const p = new URLSearchParams();
  if (q.after) p.set('after', q.after);
  if (q.limit) p.set('limit', String(q.limit));
  if (q.tag) p.set('tag', q.tag);
  if (q.optedIn) p.set('opted_in', q.optedIn);
  return get<{ contacts: ContactItem[] | null; next_after: string }>('/contacts?' + p.toString()).then((r) => ({ contacts: r.contacts ?? [], next: r.next_after ?? '' }));
}

export const getContact = (key: string) => get<ContactDetail>(`/contacts/${enc(key)}`);
export const recordConsent = (key: string, c: ConsentInput) => post<unknown>(`/contacts/${enc(key)}/consent`, c);

/** ImportAnswer is what POST /contacts/import said: a result, with problems on a 422. */
export type ImportAnswer = { ok: true; result: ImportResult } | { ok: false; status: number; error: string; result: ImportResult | null };

/** importCSV posts a CSV file as text/csv (?dry_run=true only checks it). */
export async function importCSV(csv: string, dryRun: boolean): Promise<ImportAnswer> {
  try {
    const data = await api<{ result?: ImportResult }>('POST', `/contacts/import?dry_run=${dryRun}`, csv, 'text/csv');
    if (data?.result) return { ok: true, result: data.result };
    return { ok: false, status: 200, error: 'the server answered no result', result: null };
  } catch (e) {
    if (!(e instanceof ApiError) || !e.body || typeof e.body !== 'object') throw e;
    const body = e.body as { error?: string; result?: ImportResult };
    return { ok: false, status: e.status, error: body.error ?? e.message, result: body.result ?? null };
  }
}
