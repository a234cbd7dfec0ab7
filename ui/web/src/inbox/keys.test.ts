import { describe, expect, it } from 'vitest';
import { isTyping, neighbour, notificationText, titleWithUnread } from './keys';

describe('inbox keys and attention', () => {
  it('moves through the list, stopping at its ends', () => {
    const l = ['a', 'b', 'c'];
    expect(neighbour(l, '', 1)).toBe('a');
    expect(neighbour(l, '', -1)).toBe('c');
    expect(neighbour(l, 'a', 1)).toBe('b');
    expect(neighbour(l, 'c', 1)).toBe('c');
    expect(neighbour(l, 'a', -1)).toBe('a');
    expect(neighbour([], 'a', 1)).toBe('');
  });
  it('counts unread in the title', () => {
    expect(titleWithUnread('Inbox · Parley', 0)).toBe('Inbox · Parley');
    expect(titleWithUnread('Inbox · Parley', 3)).toBe('(3) Inbox · Parley');
    expect(titleWithUnread('Inbox · Parley', 120)).toBe('(99+) Inbox · Parley');
  });
  it('notifies of customers, not of what the agent is reading, and never with their words', () => {
    const msg = { type: 'message', conversation: 'c1', message: { dir: 'in', text: 'my card number is…' } };
    expect(notificationText(msg, 'c2', false)).toBe('A customer wrote.');
    expect(notificationText(msg, 'c1', false)).toBe('');
    expect(notificationText(msg, 'c1', true)).toBe('A customer wrote.');
    expect(notificationText({ ...msg, message: { dir: 'out' } }, 'c2', true)).toBe('');
    expect(notificationText({ type: 'handoff', conversation: 'c3', queue: 'support' }, '', false)).toBe('A customer is waiting in support.');
    expect(notificationText({ type: 'read', conversation: 'c3' }, '', true)).toBe('');
  });
  it('knows a field from the page', () => {
    expect(isTyping(null)).toBe(false);
    expect(isTyping({ tagName: 'TEXTAREA' } as unknown as EventTarget)).toBe(true);
    expect(isTyping({ tagName: 'LI' } as unknown as EventTarget)).toBe(false);
  });
});
