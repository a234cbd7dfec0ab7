import { describe, expect, it } from 'vitest';
import { conversationPath, filterFromQuery, filterQuery, steps, who, type TranscriptEntry } from './model';

describe('the log filter as a URL', () => {
  it('reads and writes the same query', () => {
    const f = filterFromQuery('?flow=order&node=ask_size&status=ended');
    expect(f.flow).toBe('order');
    expect(filterQuery(f)).toBe('flow=order&status=ended&node=ask_size');
  });
  it('writes phone numbers as digits', () => {
    const f = filterFromQuery('');
    f.contact = '+1 555-123 4567';
    expect(filterQuery(f)).toBe('contact=15551234567');
  });
  it('writes nothing for no filter', () => {
    expect(filterQuery(filterFromQuery(''))).toBe('');
  });
});

describe('transcript', () => {
  const e = (x: Partial<TranscriptEntry>): TranscriptEntry => ({ seq: 1, direction: 'out', sender: 'bot', at: '', text: '', display: '', ...x });
  it('names who wrote', () => {
    expect(who(e({ direction: 'in', sender: 'customer' }))).toBe('Customer');
    expect(who(e({ sender: 'agent:Sam' }))).toBe('Agent Sam');
    expect(who(e({ direction: 'note', sender: 'system' }))).toBe('Note');
    expect(who(e({}))).toBe('Bot');
  });
  it('reads the steps, one per visit', () => {
    expect(steps([e({ node: 'ask' }), e({ node: 'ask' }), e({}), e({ node: 'answer' }), e({ node: 'ask' })])).toEqual(['ask', 'answer', 'ask']);
    expect(steps([e({ node: 'hello' })], 'size')).toEqual(['hello', 'size']);
    expect(steps([e({ node: 'hello' })], 'hello')).toEqual(['hello']);
  });
  it('escapes the id in the path', () => {
    expect(conversationPath('1065:4915#2')).toBe('/conversations/1065%3A4915%232');
  });
});
