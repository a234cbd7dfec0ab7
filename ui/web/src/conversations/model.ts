// The conversations log's model: its filters as a URL query (so a link
// such as "the conversations that stopped at this node" is a plain URL),
// and how a transcript entry reads.
import type { Json, Message } from '../types';

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
  contact_name?: string;
  wa_id?: string;
}

export interface TranscriptEntry {
  seq: number;
  direction: 'in' | 'out' | 'note' | string;
  sender: string;
  at: string;
  node?: string;
  text: string;
  display: string;
  message?: Message;
  template?: { name: string; language: string; header?: string[]; body?: string[] };
  state?: string;
  wamid?: string;
  error_code?: number;
  error?: string;
  /** On a note, an http step's attempt: method, url (secrets masked), status, duration, error. */
  call?: { [k: string]: Json };
}

export interface ConversationDetail {
  conversation: ConversationItem & {
    vars?: Record<string, Json>;
    queue?: string;
    assignee?: string;
    outcome?: string;
    ended_at?: string;
    origin?: string;
    /** The node runs the engine recorded, oldest first (the last 200); absent on older conversations. */
    steps?: Step[];
  };
  window: { open: boolean; expires_at?: string; remaining_seconds: number };
  transcript: TranscriptEntry[];
  /** The labels of the flow version's nodes that have one, by node id. */
  labels?: Record<string, string>;
}

/** Step is one node run as the engine records it: the exit taken, or why it stopped there. */
export interface Step {
  node: string;
  exit?: string;
  /** waiting, agent, call, ended or failed, when the node did not leave. */
  stop?: string;
  reason?: string;
  at: string;
}

/** PathStep is one step of the path the page shows; only recorded steps have an exit, a stop or a time. */
export interface PathStep {
  node: string;
  label?: string;
  exit?: string;
  stop?: string;
  reason?: string;
  at?: string;
}

/**
 * pathOf is the path the bot took: the recorded steps when the
 * conversation has them (recorded is then true), else as the transcript
 * tells it (steps), for conversations recorded before steps were.
 */
export function pathOf(d: ConversationDetail): { path: PathStep[]; recorded: boolean } {
  const labels = d.labels ?? {};
  const label = (node: string) => (Object.hasOwn(labels, node) ? labels[node] : undefined);
  const c = d.conversation;
  if (c.steps && c.steps.length > 0) return { path: c.steps.map((s) => ({ ...s, label: label(s.node) })), recorded: true };
  return { path: steps(d.transcript, c.node).map((node) => ({ node, label: label(node) })), recorded: false };
}

const STOPS: Record<string, string> = {
  waiting: 'waits for a reply',
  agent: 'handed to an agent',
  call: 'waits for its http call',
  ended: 'the flow ended',
  failed: 'failed',
};

/** stepOutcome says how a step left its node: "→ next", "→ cases/0", "waits for a reply", "failed: why". */
export function stepOutcome(s: PathStep): string {
  if (s.exit) return '→ ' + s.exit;
  if (!s.stop) return '';
  const words = STOPS[s.stop] ?? s.stop;
  return s.reason ? `${words}: ${s.reason}` : words;
}

/** The filters of the log, each one a query parameter of the API and of the page's URL. */
export interface LogFilter {
  flow: string;
  status: string;
  node: string;
  number: string;
  contact: string;
  from: string;
  to: string;
}

export const FILTER_KEYS: (keyof LogFilter)[] = ['flow', 'status', 'node', 'number', 'contact', 'from', 'to'];

export const STATUSES = ['active', 'waiting', 'agent', 'ended', 'expired', 'failed'];

export function emptyFilter(): LogFilter {
  return { flow: '', status: '', node: '', number: '', contact: '', from: '', to: '' };
}

/** filterFromQuery reads the filters from a URL query ("?flow=x&node=y"). */
export function filterFromQuery(search: string): LogFilter {
  const q = new URLSearchParams(search);
  const f = emptyFilter();
  for (const k of FILTER_KEYS) f[k] = q.get(k)?.trim() ?? '';
  return f;
}

/** filterQuery writes the filters set as a query, without the "?" ("" when none). */
export function filterQuery(f: LogFilter): string {
  const q = new URLSearchParams();
  for (const k of FILTER_KEYS) {
    let v = f[k].trim();
    if (k === 'contact' || k === 'number') v = v.replace(/^\+/, '').replace(/[\s-]/g, '');
    if (v) q.set(k, v);
  }
  return q.toString();
}

/** who says who wrote an entry, as a person reads it. */
export function who(e: TranscriptEntry): string {
  if (e.direction === 'in') return 'Customer';
  if (e.direction === 'note') return e.sender === 'system' || !e.sender ? 'Note' : `Note (${e.sender.replace(/^agent:/, '')})`;
  if (e.sender.startsWith('agent:')) return `Agent ${e.sender.slice('agent:'.length)}`;
  return e.sender === 'bot' ? 'Bot' : e.sender;
}

/**
 * steps is the path the bot took as far as the transcript tells it: the
 * nodes that sent or noted something, once per visit, in order, then the
 * node the conversation is at (or stopped at). Nodes that only decided
 * (a branch, a set) leave no message, so they are not on it.
 */
export function steps(entries: TranscriptEntry[], at?: string): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (e.node && out[out.length - 1] !== e.node) out.push(e.node);
  }
  if (at && out[out.length - 1] !== at) out.push(at);
  return out;
}

/** customer names the customer of a listed conversation: name and number, else the id in its key. */
export function customer(c: ConversationItem): string {
  const id = c.contact.split(':')[1] ?? c.contact;
  const num = c.wa_id ? '+' + c.wa_id : id;
  return c.contact_name ? `${c.contact_name} (${num})` : num;
}

/** conversationPath is the page of one conversation (its id holds ':' and '#'). */
export function conversationPath(id: string): string {
  return '/conversations/' + encodeURIComponent(id);
}
