import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { BusinessNumber, Queue } from './api';
import { numberChoices, numberLabel, numbersText, toggleNumber } from './model';
import { QueueForm } from './QueueForm';

const A = '110000000000001';
const B = '120000000000002';
const known: BusinessNumber[] = [
  { key: A, phone_number_id: A, display_phone_number: '15550001111' },
  { key: B, phone_number_id: B },
];

/** boxes lists the form's checkboxes as "id:checked" ("all": All numbers). */
function boxes(html: string): string[] {
  return [...html.matchAll(/<input type="checkbox"([^>]*)>/g)].map((m) => {
    const id = /data-id="([^"]*)"/.exec(m[1])?.[1] ?? (/data-testid="queue-numbers-all"/.test(m[1]) ? 'all' : '?');
    return `${id}:${/ checked=""/.test(m[1])}`;
  });
}

function render(queue: Queue | null, numbers = known): string {
  return renderToStaticMarkup(createElement(QueueForm, { queue, numbers, onSaved: () => {} }));
}

describe('the queue form’s numbers', () => {
  it.each([
    ['a new queue serves every number', null, ['all:true', `${A}:false`, `${B}:false`], 'All numbers'],
    ['an old queue without numbers serves every number', { id: 'support' }, ['all:true', `${A}:false`, `${B}:false`], 'All numbers'],
    ['a queue of one number has it ticked', { id: 'care', numbers: [B] }, ['all:false', `${A}:false`, `${B}:true`], `Only ${B}`],
    ['a queue of both has both ticked', { id: 'care', numbers: [A, B] }, ['all:false', `${A}:true`, `${B}:true`], `Only +15550001111, ${B}`],
    ['a number no longer served is shown, to take off', { id: 'old', numbers: ['130000000000003'] }, ['all:false', `${A}:false`, `${B}:false`, '130000000000003:true'], 'not served'],
  ])('%s', (_name, queue, want, says) => {
    const html = render(queue);
    expect(boxes(html)).toEqual(want);
    expect(html).toContain(says);
    expect(html).toContain('Numbers');
  });

  it('says "All numbers" with no number to choose from', () => {
    const html = render(null, []);
    expect(boxes(html)).toEqual(['all:true']);
    expect(html).toContain('All numbers');
  });

  it('labels numbers by their display number, else their id', () => {
    expect(render({ id: 'care', numbers: [A] })).toContain('+15550001111');
    expect(numberLabel(A, known)).toBe('+15550001111');
    expect(numberLabel(B, known)).toBe(B);
    expect(numberLabel('9', known)).toBe('9');
  });
});

describe('numbers helpers', () => {
  it('ticks and unticks a number, none left being every number', () => {
    expect(toggleNumber([], A, true)).toEqual([A]);
    expect(toggleNumber([A], B, true)).toEqual([A, B]);
    expect(toggleNumber([A, B], A, false)).toEqual([B]);
    expect(toggleNumber([B], B, false)).toEqual([]);
    expect(toggleNumber([A], A, true)).toEqual([A]);
  });
  it('offers the served numbers, then the queue’s others', () => {
    expect(numberChoices(known, [B, '9'])).toEqual([
      { id: A, label: '+15550001111', served: true },
      { id: B, label: B, served: true },
      { id: '9', label: '9', served: false },
    ]);
  });
  it('writes a queue’s numbers for the list', () => {
    expect(numbersText(undefined, known)).toBe('All numbers');
    expect(numbersText([], known)).toBe('All numbers');
    expect(numbersText([A, B], known)).toBe(`+15550001111, ${B}`);
  });
});
