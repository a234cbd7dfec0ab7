import { describe, expect, it } from 'vitest';
import { CoalesceMs, MaxUndo, initHistory, push, redo, redoLabel, undo, undoLabel } from './history';

describe('undo stack', () => {
  it('undoes and redoes', () => {
    let h = initHistory(0);
    h = push(h, 1, undefined, 0);
    h = push(h, 2, undefined, 10);
    h = undo(h);
    expect(h.present).toBe(1);
    h = undo(h);
    expect(h.present).toBe(0);
    expect(undo(h)).toBe(h);
    h = redo(h);
    expect(h.present).toBe(1);
    h = push(h, 5, undefined, 20);
    expect(h.future).toEqual([]);
    expect(redo(h)).toBe(h);
  });
  it('merges a burst of edits to one field', () => {
    let h = initHistory('');
    h = push(h, 'a', 'n:text', 0);
    h = push(h, 'ab', 'n:text', 100);
    h = push(h, 'abc', 'n:text', 200);
    expect(h.past).toEqual(['']);
    h = push(h, 'abcd', 'n:text', 200 + CoalesceMs + 1);
    expect(h.past).toEqual(['', 'abc']);
    h = push(h, 'x', 'n:other', 200 + CoalesceMs + 2);
    expect(h.past).toEqual(['', 'abc', 'abcd']);
  });
  it('does not merge across an undo', () => {
    let h = initHistory(0);
    h = push(h, 1, 'k', 0);
    h = undo(h);
    h = push(h, 2, 'k', 1);
    expect(h.past).toEqual([0]);
    expect(undo(h).present).toBe(0);
  });
  it('keeps at most MaxUndo steps', () => {
    let h = initHistory(0);
    for (let i = 1; i <= MaxUndo + 10; i++) h = push(h, i, undefined, i * 10000);
    expect(h.past.length).toBe(MaxUndo);
    expect(h.past[0]).toBe(10);
  });
  it('ignores a no-op', () => {
    const h = initHistory(1);
    expect(push(h, 1)).toBe(h);
  });
  it('says what undo and redo would do', () => {
    let h = initHistory(0);
    expect(undoLabel(h)).toBe('');
    h = push(h, 1, 'a:text', 0, 'edit the text of a');
    h = push(h, 2, undefined, 10, 'paste 2 nodes');
    expect(undoLabel(h)).toBe('paste 2 nodes');
    h = undo(h);
    expect(h.present).toBe(1);
    expect(undoLabel(h)).toBe('edit the text of a');
    expect(redoLabel(h)).toBe('paste 2 nodes');
    h = redo(h);
    expect(undoLabel(h)).toBe('paste 2 nodes');
    expect(h.pastLabels.length).toBe(h.past.length);
  });
  it('undoes a paste right after a coalesced field edit, not the edit', () => {
    // Regression: Ctrl+Z after a paste undid an earlier fix.
    let h = initHistory('doc');
    h = push(h, 'fixed', 'a:text', 0, 'edit a');
    h = push(h, 'fixed+pasted', undefined, 100, 'paste 1 node');
    h = undo(h);
    expect(h.present).toBe('fixed');
  });
});
