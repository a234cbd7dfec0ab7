// Event webhooks (issue 12 §3): the subscriptions an admin makes, their
// deliveries and attempts, and the REST calls (README "Event webhooks",
// docs/events.md). A signing secret comes back once, from create or a
// rotation; nothing here keeps it.
import { del, enc, get, post, put } from '../api';

/** Subscription is what the server shows of a subscription: never its secret. */
export interface Subscription {
  id: string;
  url: string;
  /** empty: every type */
  types: string[];
  enabled: boolean;
  description?: string;
  /** the secret's last 4 characters */
  secret_hint: string;
  created_at: string;
  created_by?: string;
  updated_at: string;
  updated_by?: string;
}

export interface Attempt {
  at: string;
  status?: number;
  error?: string;
  duration_ms: number;
}

export interface Delivery {
  seq: number;
  subscription: string;
  event: { id: string; type: string; at: string; contact?: string; conversation?: string; data?: unknown };
  state: 'pending' | 'delivered' | 'failed';
  attempts?: Attempt[];
  attempt_count: number;
  next_at?: string;
  created_at: string;
  give_up_at: string;
  done_at?: string;
}

export interface SubscriptionInput {
  url?: string;
  types?: string[];
  enabled?: boolean;
  description?: string;
  rotate_secret?: boolean;
}

export const maxURLLen = 2048;
export const maxDescriptionLen = 200;

/** urlProblem says what is wrong with a URL, or '' (the server's rule: absolute http(s), a host, no user name). */
export function urlProblem(url: string): string {
  if (!url) return 'A URL is required.';
  if (url.length > maxURLLen) return `At most ${maxURLLen} characters.`;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'Not a URL: write it whole, like https://crm.example.com/parley.';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'Only http:// and https:// URLs.';
  if (!u.hostname) return 'The URL needs a host.';
  if (u.username || u.password) return 'No user name or password in the URL: the signature proves the sender.';
  return '';
}

/** typesLabel names what a subscription receives. */
export const typesLabel = (types: string[]) => (types.length === 0 ? 'every event' : types.join(', '));

/** deliveryStatus says where a delivery stands, for a person. */
export function deliveryStatus(d: Delivery, fmt: (iso: string) => string): string {
  const last = d.attempts && d.attempts.length > 0 ? d.attempts[d.attempts.length - 1] : undefined;
  const tries = d.attempt_count === 1 ? '1 attempt' : `${d.attempt_count} attempts`;
  switch (d.state) {
    case 'delivered':
      return `delivered (${tries})`;
    case 'failed':
      return `failed after ${tries}${last?.error ? ': ' + last.error : ''}`;
  }
  if (!d.next_at) return 'waiting for an earlier event of the same contact';
  if (!last) return `due ${fmt(d.next_at)}`;
  return `retry ${fmt(d.next_at)} (${tries}; last: ${last.error || last.status})`;
}

export const listSubscriptions = () => get<{ subscriptions: Subscription[]; event_types: string[] }>('/event-subscriptions');
export const createSubscription = (in_: SubscriptionInput) => post<{ subscription: Subscription; secret: string }>('/event-subscriptions', in_);
export const updateSubscription = (id: string, in_: SubscriptionInput) =>
  put<{ subscription: Subscription; secret?: string }>('/event-subscriptions/' + enc(id), in_);
export const deleteSubscription = (id: string) => del<null>('/event-subscriptions/' + enc(id));
export const sendTest = (id: string) => post<Attempt>('/event-subscriptions/' + enc(id) + '/test');
export function listDeliveries(id: string, state: string, before: number) {
  const q = new URLSearchParams({ limit: '50' });
  if (state) q.set('state', state);
  if (before) q.set('before', String(before));
  return get<{ deliveries: Delivery[]; next: number }>(`/event-subscriptions/${enc(id)}/deliveries?${q}`);
}
export const replayDelivery = (id: string, seq: number) => post<{ replayed: number }>(`/event-subscriptions/${enc(id)}/deliveries/${seq}/replay`);
export const replayFailed = (id: string) => post<{ replayed: number }>(`/event-subscriptions/${enc(id)}/replay-failed`);
