import { describe, expect, it } from 'vitest';
import { closest, forNumbers, matchQueues, missingNumbers, queueStatus, served, type HandoffQueue } from './queues';

const queues: HandoffQueue[] = [
  { id: 'billing', name: 'Billing', created: true, agents: 0, online: false },
  { id: 'sales', created: false, agents: 2, online: false },
  { id: 'support', name: 'Customer care', created: true, agents: 3, online: true },
];

describe('matchQueues', () => {
  it('lists those whose id or name holds the value, exact first; every queue when none does or for an empty value', () => {
    const ids = (v: string) => matchQueues(v, queues).map((q) => q.id);
    expect(ids('')).toEqual(['billing', 'sales', 'support']);
    expect(ids('S')).toEqual(['sales', 'support']);
    expect(ids('care')).toEqual(['support']);
    expect(ids('sup')).toEqual(['support']);
    expect(ids('suport')).toEqual(['billing', 'sales', 'support']);
    expect(ids('sales')).toEqual(['sales']);
  });
});

describe('served', () => {
  it('says how many agents and whether one is online', () => {
    expect(served(queues[0])).toBe('no agent');
    expect(served(queues[1])).toBe('2 agents, none online now');
    expect(served(queues[2])).toBe('3 agents, one online');
  });
});

describe('queueStatus', () => {
  it('says nothing before the queues load or for an empty value', () => {
    expect(queueStatus('support', null)).toBeNull();
    expect(queueStatus('', queues)).toBeNull();
  });
  it('is fine for a served queue, online or not (an agent may come online)', () => {
    expect(queueStatus('support', queues)).toEqual({ severity: 'ok', message: 'Served by 3 agents, one online.' });
    expect(queueStatus('sales', queues)?.severity).toBe('ok');
  });
  it('warns of a created queue no agent serves', () => {
    expect(queueStatus('billing', queues)).toMatchObject({ severity: 'warning', message: expect.stringContaining('No agent serves "billing"') });
  });
  it('warns of a typo, with the queue meant', () => {
    expect(queueStatus('suport', queues)).toMatchObject({ severity: 'warning', suggestion: 'support', message: expect.stringContaining('did you mean "support"?') });
  });
  it('allows a new queue, with a warning that nobody serves it yet', () => {
    const s = queueStatus('legal', queues);
    expect(s?.severity).toBe('warning');
    expect(s?.suggestion).toBeUndefined();
    expect(s?.message).toContain('new queue');
  });
});

describe('closest', () => {
  it('finds a near name, a swap of neighbours as one edit, and none on a tie or when far', () => {
    expect(closest('suport', ['support', 'sales'])).toBe('support');
    expect(closest('slaes', ['sales'])).toBe('sales');
    expect(closest('SALES', ['sales'])).toBe('sales');
    expect(closest('abc', ['abd', 'abe'])).toBe('');
    expect(closest('zzz', ['support'])).toBe('');
  });
});

describe('queues by the flow’s numbers', () => {
  const A = '110000000000001';
  const B = '120000000000002';
  const byNumber: HandoffQueue[] = [
    { id: 'shop', created: true, agents: 1, online: true, numbers: [A] },
    { id: 'care', created: true, agents: 1, online: true, numbers: [B] },
    { id: 'support', created: true, agents: 1, online: true },
  ];
  it.each([
    ['a flow on every number is offered every queue', undefined, ['shop', 'care', 'support']],
    ['a flow on A', [A], ['shop', 'support']],
    ['a flow on B', [B], ['care', 'support']],
    ['a flow on both', [A, B], ['shop', 'care', 'support']],
  ])('%s', (_name, numbers, want) => {
    expect(forNumbers(byNumber, numbers).map((q) => q.id)).toEqual(want);
  });
  it.each([
    ['a queue of the flow’s number is fine', 'shop', [A], 'ok', 'Served by'],
    ['a queue of none of the flow’s numbers', 'care', [A], 'warning', '"care" serves none of this flow’s numbers'],
    ['a queue of some of them', 'shop', [A, B], 'warning', `"shop" does not serve ${B}, a number this flow answers on`],
    ['a queue of every number', 'support', [A, B], 'ok', 'Served by'],
    ['a flow on every number is left to the server', 'shop', undefined, 'ok', 'Served by'],
  ])('%s', (_name, value, numbers, severity, says) => {
    const s = queueStatus(value, byNumber, numbers);
    expect(s?.severity).toBe(severity);
    expect(s?.message).toContain(says);
  });
  it('names what is missing', () => {
    expect(missingNumbers(byNumber[0], [A, B])).toEqual([B]);
    expect(missingNumbers(byNumber[2], [A, B])).toEqual([]);
  });
});
