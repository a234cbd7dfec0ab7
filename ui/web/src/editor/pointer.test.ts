import { describe, expect, it } from 'vitest';
import type { FlowDoc, FlowNode } from '../types';
import { fieldProblems, fieldWords, indexProblems, locate, nodeWords, parsePointer } from './pointer';

const doc: FlowDoc = {
  format: 'parley/flow@1',
  id: 'f',
  start: 'a',
  nodes: [
    { id: 'a', type: 'send', message: { type: 'text', text: '' } },
    { id: 'b', type: 'branch', cases: [{ when: '1 +', next: 'a' }] },
  ],
};

describe('pointers', () => {
  it('parses and unescapes', () => {
    expect(parsePointer('/vars/a~1b/c~0d')).toEqual(['vars', 'a/b', 'c~d']);
    expect(parsePointer('')).toEqual([]);
  });
  const cases: [string, { node?: string; field: string }][] = [
    ['/nodes/1/cases/0/when', { node: 'b', field: 'cases/0/when' }],
    ['/nodes/0', { node: 'a', field: '' }],
    ['/nodes/0/message/text', { node: 'a', field: 'message/text' }],
    ['/nodes/9/next', { field: 'nodes/9/next' }],
    ['/start', { node: 'a', field: '' }],
    ['/triggers/0/keywords', { field: 'triggers/0/keywords' }],
    ['', { field: '' }],
  ];
  for (const [p, want] of cases) {
    it(`locates ${p || '(root)'}`, () => expect(locate(doc, p)).toEqual(want));
  }
  it('indexes problems by node and counts them', () => {
    const idx = indexProblems(doc, [
      { severity: 'error', pointer: '/nodes/1/cases/0/when', message: 'syntax' },
      { severity: 'warning', pointer: '/nodes/1', message: 'w' },
      { severity: 'error', pointer: '/name', message: 'x' },
    ]);
    expect(idx.errors).toBe(2);
    expect(idx.warnings).toBe(1);
    expect(idx.byNode.get('b')?.length).toBe(2);
    expect(idx.flow.map((p) => p.field)).toEqual(['name']);
    expect(fieldProblems(idx.byNode.get('b'), 'cases').map((p) => p.message)).toEqual(['syntax']);
    expect(fieldProblems(idx.byNode.get('b'), 'case')).toEqual([]);
  });
});

describe('fieldWords', () => {
  const n: FlowNode = {
    id: 'menu',
    type: 'wait_reply',
    meta: { label: 'Main menu' },
    prompt: { type: 'buttons', text: 'x', buttons: [{ id: 'o', title: 'Order' }] },
    cases: [{ when: 'true', next: 'a', label: 'Yes' }, { when: 'x', next: 'b' }],
  };
  it('says where a problem is in words', () => {
    expect(fieldWords(n, 'prompt/buttons/0/next')).toBe('question › button “Order” › next');
    expect(fieldWords(n, 'prompt/buttons/4/title')).toBe('question › button 5 › title');
    expect(fieldWords(n, 'cases/0/when')).toBe('case “Yes” › condition');
    expect(fieldWords(n, 'cases/1/next')).toBe('case 2 › next');
    expect(fieldWords(n, 'on_timeout')).toBe('on timeout');
    expect(fieldWords(n, '')).toBe('');
    expect(nodeWords(n, 'menu')).toBe('Main menu');
    expect(nodeWords(undefined, 'x')).toBe('x');
  });
});
