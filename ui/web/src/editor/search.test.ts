import { describe, expect, it } from 'vitest';
import type { FlowNode } from '../types';
import { MaxHits, searchNodes } from './search';

const nodes: FlowNode[] = [
  { id: 'greet', type: 'send', message: { type: 'text', text: 'Hi! Welcome to Pizza Roma' } },
  { id: 'menu', type: 'wait_reply', meta: { label: 'Main menu' }, prompt: { type: 'buttons', text: 'What would you like?', buttons: [{ id: 'order', title: 'Order a pizza' }] } },
  { id: 'pick_size', type: 'wait_reply', prompt: { type: 'list', text: 'Which size?', button: 'Sizes', sections: [{ rows: [{ id: 's', title: 'Small' }] }] } },
  { id: 'to_agent', type: 'handoff', queue: 'support' },
];

describe('searchNodes', () => {
  it('finds by id, label, type, message text, button and row titles, queue; accents and case folded', () => {
    const ids = (q: string) => searchNodes(nodes, q).map((h) => h.id);
    expect(ids('menu')).toEqual(['menu']);
    expect(ids('main')).toEqual(['menu']);
    expect(ids('PIZZA')).toEqual(['greet', 'menu']);
    expect(ids('small')).toEqual(['pick_size']);
    expect(ids('hand off')).toEqual(['to_agent']);
    expect(ids('support')).toEqual(['to_agent']);
    expect(ids('wélcome')).toEqual(['greet']);
    expect(ids('  ')).toEqual([]);
    expect(ids('pizza nothing')).toEqual([]);
  });
  it('puts ids that start with the query first, and caps the list', () => {
    const many: FlowNode[] = Array.from({ length: 20 }, (_, i) => ({ id: `ask_${i}`, type: 'send', message: { type: 'text', text: 'ask' } }));
    many.push({ id: 'ask', type: 'send' });
    const hits = searchNodes(many, 'ask');
    expect(hits.length).toBe(MaxHits);
    expect(hits[0].id).toBe('ask');
    expect(searchNodes(nodes, 'menu')[0].title).toBe('Main menu (menu)');
  });
});
