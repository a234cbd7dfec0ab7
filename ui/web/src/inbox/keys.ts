// The inbox's keyboard and attention helpers: the shortcuts, moving
// through the list, the tab's title, and what a browser notification says.
import type { LiveEvent } from './types';

/** SHORTCUTS are the inbox's keys, as "?" lists them. */
export const SHORTCUTS: [string, string][] = [
  ['j / k', 'next / previous conversation'],
  ['Tab, Enter', 'reach a conversation and open it'],
  ['r or /', 'write a reply'],
  ['Enter', 'send the reply (Shift+Enter: a new line)'],
  ['Esc', 'leave the reply box; again: back to the list'],
  ['1 / 2 / 3', 'mine / unassigned / all'],
  ['?', 'show or hide these keys'],
];

/** isTyping reports whether a key goes to a field rather than to the shortcuts. */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

/** neighbour is the conversation step places from current in the list (the first or last from none). */
export function neighbour(list: string[], current: string, step: 1 | -1): string {
  if (list.length === 0) return '';
  const i = list.indexOf(current);
  if (i < 0) return step === 1 ? list[0] : list[list.length - 1];
  return list[Math.min(list.length - 1, Math.max(0, i + step))];
}

/** titleWithUnread puts the unread count in front of a tab title: "(3) Inbox · Parley". */
export function titleWithUnread(title: string, unread: number): string {
  return unread > 0 ? `(${unread > 99 ? '99+' : unread}) ${title}` : title;
}

/**
 * notificationText is what a browser notification says of a live event,
 * or "" for none: a customer's message or a new handoff, unless the agent
 * is looking at that very conversation. Never the customer's words: a
 * notification shows on a locked screen.
 */
export function notificationText(ev: LiveEvent & { message?: { dir?: string } }, open: string, hidden: boolean): string {
  if (!hidden && ev.conversation === open) return '';
  if (ev.type === 'handoff') return `A customer is waiting${ev.queue ? ' in ' + ev.queue : ''}.`;
  if (ev.type === 'message' && ev.message?.dir === 'in') return 'A customer wrote.';
  return '';
}
