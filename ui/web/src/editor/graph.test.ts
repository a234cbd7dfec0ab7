import { describe, expect, it } from 'vitest';
import type { FlowDoc, FlowNode } from '../types';
import { connect, deleteNodes, edgesOf, exitName, exitsOf, newNode, pasteNodes, renameNode, setExit, uniqueId } from './graph';

const doc = (): FlowDoc => ({
  format: 'parley/flow@1',
  id: 'f',
  start: 'greet',
  reengage: 'tpl',
  interrupts: [{ keywords: ['agent'], goto: 'agent' }],
  nodes: [
    { id: 'greet', type: 'send', message: { type: 'text', text: 'Hi' }, next: 'ask', on_error: 'agent' },
    { id: 'ask', type: 'wait_reply', next: 'route', on_timeout: 'tpl', on_window_closing: { before: '30m', next: 'greet' } },
    { id: 'route', type: 'branch', cases: [{ when: "reply.button_id == 'yes'", next: 'agent' }], default: 'tpl' },
    { id: 'tpl', type: 'template', template: { name: 't', language: 'en_US' }, next: 'agent', on_blocked: 'agent' },
    { id: 'agent', type: 'handoff', queue: 'support', on_no_agent: 'greet' },
    { id: 'faq', type: 'auto_reply', rules: [{ keywords: ['hours'], reply: { type: 'text', text: '9-5' }, next: 'agent' }], default: { reply: { type: 'text', text: '?' } }, hours: { timezone: 'UTC', open: {}, closed_reply: { type: 'text', text: 'closed' } } },
  ],
});

describe('exitsOf', () => {
  const cases: [string, string[]][] = [
    ['send', ['next', 'on_window_closed', 'on_error']],
    ['wait_reply', ['next', 'on_invalid', 'on_timeout', 'on_window_closing/next', 'on_window_closed', 'on_error']],
    ['branch', ['cases/0/next', 'default']],
    ['template', ['next', 'on_blocked', 'on_error']],
    ['handoff', ['next', 'on_no_agent']],
    ['auto_reply', ['rules/0/next', 'default/next', 'hours/closed_next', 'next']],
    ['set', ['next']],
    ['http', ['next', 'on_error']],
  ];
  for (const [type, handles] of cases) {
    it(`gives ${type} its exits`, () => {
      const n = doc().nodes.find((x) => x.type === type) ?? newNode(type, 'x', 0, 0);
      expect(exitsOf(n).map((e) => e.handle)).toEqual(handles);
    });
  }
  it('gives a wait one handle per choice of its prompt, before "other"', () => {
    const n: FlowNode = {
      id: 'menu',
      type: 'wait_reply',
      prompt: { type: 'buttons', text: 'What?', buttons: [{ id: 'order', title: 'Order', next: 'pick' }, { id: 'track', title: 'Track' }] },
      next: 'agent',
    };
    const xs = exitsOf(n);
    expect(xs.slice(0, 3).map((e) => [e.handle, e.label, e.target])).toEqual([
      ['prompt/buttons/0/next', '“Order”', 'pick'],
      ['prompt/buttons/1/next', '“Track”', undefined],
      ['next', 'other', 'agent'],
    ]);
    expect(exitName('prompt/buttons/0/next')).toBe('prompt/buttons/0');
    const list: FlowNode = { id: 'l', type: 'wait_reply', prompt: { type: 'list', text: 'x', button: 'Menu', sections: [{ rows: [{ id: 'a', title: 'A' }] }, { rows: [{ id: 'b', title: 'B' }] }] } };
    expect(exitsOf(list)[1].handle).toBe('prompt/sections/1/rows/0/next');
  });
  it('connects and clears a choice exit without touching the others', () => {
    const n: FlowNode = { id: 'l', type: 'wait_reply', prompt: { type: 'list', text: 'x', button: 'Menu', sections: [{ rows: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B', next: 'x' }] }] } };
    const c = setExit(n, 'prompt/sections/0/rows/0/next', 'y');
    expect(c.prompt?.sections?.[0].rows.map((r) => r.next)).toEqual(['y', 'x']);
    expect(n.prompt?.sections?.[0].rows[0].next).toBeUndefined();
    const d = setExit(c, 'prompt/sections/0/rows/1/next', undefined);
    expect('next' in d.prompt!.sections![0].rows[1]).toBe(false);
  });
  it('labels a case by its label, else its expression', () => {
    expect(exitsOf({ id: 'b', type: 'branch', cases: [{ when: 'true', next: '', label: 'Yes' }, { when: 'x > 1', next: '' }] }).map((e) => e.label)).toEqual(['Yes', 'x > 1', 'default']);
  });
});

describe('edgesOf', () => {
  it('lists set exits to existing nodes only', () => {
    const d = doc();
    d.nodes[0].on_window_closed = 'missing';
    const es = edgesOf(d).filter((e) => e.source === 'greet' || e.source === 'ask');
    expect(es.map((e) => `${e.source}:${e.sourceHandle}->${e.target}`)).toEqual([
      'greet:next->ask',
      'greet:on_error->agent',
      'ask:next->route',
      'ask:on_timeout->tpl',
      'ask:on_window_closing/next->greet',
    ]);
  });
});

describe('setExit', () => {
  it('sets and clears plain exits', () => {
    const n: FlowNode = { id: 'a', type: 'send', message: { type: 'text', text: 'x' } };
    const s = setExit(n, 'on_window_closed', 'b');
    expect(s.on_window_closed).toBe('b');
    expect(n.on_window_closed).toBeUndefined();
    expect('on_window_closed' in setExit(s, 'on_window_closed', undefined)).toBe(false);
    const e = setExit(n, 'on_error', 'c');
    expect(e.on_error).toBe('c');
    expect('on_error' in setExit(e, 'on_error', undefined)).toBe(false);
  });
  it('creates on_window_closing with a default before, and removes it whole', () => {
    const n: FlowNode = { id: 'a', type: 'wait_reply', next: 'b' };
    const s = setExit(n, 'on_window_closing/next', 'c');
    expect(s.on_window_closing).toEqual({ before: '30m', next: 'c' });
    expect(setExit(s, 'on_window_closing/next', undefined).on_window_closing).toBeUndefined();
  });
  it('sets a case, a rule, the default reply and closed hours', () => {
    const d = doc();
    expect(setExit(d.nodes[2], 'cases/0/next', 'greet').cases?.[0].next).toBe('greet');
    const faq = d.nodes[5];
    expect(setExit(faq, 'rules/0/next', undefined).rules?.[0].next).toBeUndefined();
    expect((setExit(faq, 'default/next', 'greet').default as { next?: string }).next).toBe('greet');
    expect(setExit(faq, 'hours/closed_next', 'agent').hours?.closed_next).toBe('agent');
  });
});

describe('renameNode', () => {
  it('follows the id everywhere it is named', () => {
    const d = renameNode(doc(), 'greet', 'hello');
    expect(d.start).toBe('hello');
    expect(d.nodes[0].id).toBe('hello');
    expect(d.nodes[1].on_window_closing?.next).toBe('hello');
    expect(d.nodes[4].on_no_agent).toBe('hello');
    const r = renameNode(doc(), 'agent', 'human');
    expect(r.interrupts?.[0].goto).toBe('human');
    expect(r.nodes[2].cases?.[0].next).toBe('human');
    expect(r.nodes[5].rules?.[0].next).toBe('human');
    expect(r.nodes[0].on_error).toBe('human');
    expect(renameNode(doc(), 'tpl', 'x').reengage).toBe('x');
  });
  it('refuses an id that is taken', () => {
    const d = doc();
    expect(renameNode(d, 'greet', 'ask')).toBe(d);
  });
});

describe('deleteNodes', () => {
  it('removes the nodes and the exits that led to them', () => {
    const d = deleteNodes(doc(), ['tpl']);
    expect(d.nodes.map((n) => n.id)).not.toContain('tpl');
    expect(d.nodes[1].on_timeout).toBeUndefined();
    expect(d.nodes[2].default).toBeUndefined();
    expect(d.reengage).toBeUndefined();
  });
  it('moves the start to the first node left', () => {
    expect(deleteNodes(doc(), ['greet']).start).toBe('ask');
  });
});

describe('pasteNodes', () => {
  it('renames copies and keeps exits among them', () => {
    const d = doc();
    const r = pasteNodes(d, [d.nodes[0], d.nodes[1]], 40, 40);
    expect(r.ids).toEqual(['greet_2', 'ask_2']);
    const [g, a] = r.doc.nodes.slice(-2);
    expect(g.next).toBe('ask_2');
    expect(a.next).toBe('route'); // outside the copy, still in the flow
    expect(a.on_window_closing?.next).toBe('greet_2');
    expect(g.meta).toEqual({ x: 40, y: 40 });
  });
  it('drops exits to nodes that are gone', () => {
    const d = doc();
    const copied = [structuredClone(d.nodes[0])];
    const r = pasteNodes(deleteNodes(d, ['ask']), copied, 0, 0);
    expect(r.doc.nodes.at(-1)?.next).toBeUndefined();
  });
});

describe('ids and names', () => {
  it('uniqueId picks the first free suffix', () => {
    expect(uniqueId(new Set(['send', 'send_2']), 'send')).toBe('send_3');
    expect(uniqueId(new Set(), 'Hello World!')).toBe('hello_world_');
  });
  it('exitName matches the engine', () => {
    expect(['next', 'cases/0/next', 'rules/2/next', 'on_window_closing/next', 'default/next', 'hours/closed_next', 'on_timeout', 'on_error'].map(exitName)).toEqual([
      'next',
      'cases/0',
      'rules/2',
      'on_window_closing',
      'default',
      'hours/closed_next',
      'on_timeout',
      'on_error',
    ]);
  });
  it('connect points an exit', () => {
    expect(connect(doc(), 'agent', 'next', 'greet').nodes[4].next).toBe('greet');
  });
});
