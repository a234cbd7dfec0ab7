import { describe, expect, it } from 'vitest';
import { serves, transferQueues } from './queues';
import type { QueueView } from './types';

const A = '110000000000001';
const B = '120000000000002';
const q = (id: string, numbers?: string[]): QueueView => ({ id, known: true, open: true, waiting: 0, assigned: 0, agents_online: 0, numbers });

describe('transfer targets by number', () => {
  const queues = [q('care', [B]), q('shop', [A]), q('support'), q('both', [A, B])];
  it.each([
    ['a conversation on A', A, ['shop', 'support', 'both']],
    ['a conversation on B', B, ['care', 'support', 'both']],
    ['a number no queue names', '130000000000003', ['support']],
    ['an unknown number keeps every queue', undefined, ['care', 'shop', 'support', 'both']],
  ])('%s', (_name, number, want) => {
    expect(transferQueues(queues, number).map((x) => x.id)).toEqual(want);
  });
  it('a queue without numbers serves every number', () => {
    expect(serves(q('x'), A)).toBe(true);
    expect(serves(q('x', []), A)).toBe(true);
    expect(serves(q('x', [B]), A)).toBe(false);
  });
});
