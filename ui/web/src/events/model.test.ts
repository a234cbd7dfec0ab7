import { describe, expect, it } from 'vitest';
import { deliveryStatus, typesLabel, urlProblem, type Delivery } from './model';

describe('a subscription URL, as the server checks it', () => {
  it.each([
    ['https://crm.example.com/parley', ''],
    ['http://127.0.0.1:9000/hook', ''],
    ['', 'A URL is required.'],
    ['crm.example.com/parley', 'Not a URL: write it whole, like https://crm.example.com/parley.'],
    ['ftp://crm.example.com/x', 'Only http:// and https:// URLs.'],
    ['https://user:pw@crm.example.com/', 'No user name or password in the URL: the signature proves the sender.'],
    ['https://x.example/' + 'a'.repeat(2048), 'At most 2048 characters.'],
  ])('%j → %j', (url, want) => {
    expect(urlProblem(url)).toBe(want);
  });
});

describe('what a subscription receives', () => {
  it('is every event when no type is named', () => {
    expect(typesLabel([])).toBe('every event');
    expect(typesLabel(['conversation.ended', 'handoff.queued'])).toBe('conversation.ended, handoff.queued');
  });
});

describe('where a delivery stands', () => {
  const base: Delivery = {
    seq: 1, subscription: 'sub_1', event: { id: 'evt_1', type: 'message.received', at: '2026-01-05T10:00:00Z' },
    state: 'pending', attempt_count: 0, created_at: '2026-01-05T10:00:00Z', give_up_at: '2026-01-06T10:00:00Z',
  };
  const fmt = (iso: string) => iso.slice(11, 16);
  it.each<[string, Partial<Delivery>, string]>([
    ['due', { next_at: '2026-01-05T10:00:00Z' }, 'due 10:00'],
    ['waiting its turn', {}, 'waiting for an earlier event of the same contact'],
    ['retrying', { next_at: '2026-01-05T10:05:00Z', attempt_count: 2, attempts: [{ at: '', status: 503, error: 'HTTP 503', duration_ms: 3 }] }, 'retry 10:05 (2 attempts; last: HTTP 503)'],
    ['delivered', { state: 'delivered', attempt_count: 1 }, 'delivered (1 attempt)'],
    ['failed', { state: 'failed', attempt_count: 150, attempts: [{ at: '', error: 'connection refused', duration_ms: 1 }] }, 'failed after 150 attempts: connection refused'],
  ])('%s', (_, d, want) => {
    expect(deliveryStatus({ ...base, ...d }, fmt)).toBe(want);
  });
});
