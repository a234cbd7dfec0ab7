import { describe, expect, it } from 'vitest';
import type { FlowDoc, NodeStats } from '../types';
import { mainPath, percent, stoppedHere } from './model';

const doc: FlowDoc = {
  format: 'parley/flow@1',
  id: 'pizza',
  start: 'hello',
  nodes: [
    { id: 'hello', type: 'send', next: 'size' },
    { id: 'size', type: 'wait_reply', next: 'check', on_timeout: 'bye' },
    { id: 'check', type: 'branch', cases: [{ when: 'x', next: 'small' }], default: 'large' },
    { id: 'small', type: 'send', next: 'hello' },
    { id: 'large', type: 'send', next: 'bye' },
    { id: 'bye', type: 'send' },
  ],
};

const st = (entered: number, exits: Record<string, number> = {}): NodeStats => ({ entered, exits, dropped: {} });

describe('the funnel along the main path', () => {
  it('follows the exit most conversations took', () => {
    const stats = { hello: st(10, { next: 10 }), size: st(10, { next: 8, on_timeout: 2 }), check: st(8, { 'cases/0': 3, default: 5 }), large: st(5, { next: 5 }), bye: st(7) };
    expect(mainPath(doc, stats).map((s) => [s.node, s.entered, s.exit, percent(s.share)])).toEqual([
      ['hello', 10, 'next', '100%'],
      ['size', 10, 'next', '100%'],
      ['check', 8, 'default', '80%'],
      ['large', 5, 'next', '50%'],
      ['bye', 7, '', '70%'],
    ]);
  });
  it('takes the first set exit without data, and stops at a loop', () => {
    const stats = { hello: st(0) };
    expect(mainPath(doc, stats).map((s) => s.node)).toEqual(['hello', 'size', 'check', 'small']);
    expect(mainPath(doc, stats)[0].share).toBe(0);
  });
  it('links to the conversations that stopped at a node', () => {
    expect(stoppedHere('pizza', 'size', 'failed')).toBe('/conversations?flow=pizza&node=size&status=failed');
  });
});
