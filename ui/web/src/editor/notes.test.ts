import { describe, expect, it } from 'vitest';
import type { FlowDoc } from '../types';
import { addNote, deleteNotes, notesOf, updateNote } from './notes';

const doc: FlowDoc = { format: 'parley/flow@1', id: 'f', start: '', nodes: [], meta: { owner: 'ann' } };

describe('sticky notes', () => {
  it('are added, edited, moved and deleted in meta.notes, beside other meta', () => {
    let r = addNote(doc, 10.4, 20, 'Ask legal about this text');
    expect(r.id).toBe('n1');
    r = addNote(r.doc, 0, 0);
    expect(r.id).toBe('n2');
    let d = updateNote(r.doc, 'n2', { text: 'todo', x: 5 });
    expect(notesOf(d)).toEqual([
      { id: 'n1', x: 10, y: 20, text: 'Ask legal about this text' },
      { id: 'n2', x: 5, y: 0, text: 'todo' },
    ]);
    expect(d.meta?.owner).toBe('ann');
    d = deleteNotes(d, ['n1', 'n2']);
    expect(d.meta).toEqual({ owner: 'ann' });
    expect(doc.meta).toEqual({ owner: 'ann' });
  });
  it('skip what is not a note', () => {
    expect(notesOf({ ...doc, meta: { notes: [null, 3, { x: 1 }, { id: 'a', text: 'ok' }] } })).toEqual([{ id: 'a', x: 0, y: 0, text: 'ok' }]);
    expect(notesOf({ ...doc, meta: { notes: 'no' } })).toEqual([]);
  });
});
