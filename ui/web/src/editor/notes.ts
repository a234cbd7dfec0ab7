// Sticky notes: comments on the canvas for the team, kept in the flow's
// meta (meta.notes), which the engine never reads. Each has an id (its
// canvas node is "note:<id>"), a position and its text.
import type { FlowDoc, Json } from '../types';

export interface StickyNote {
  id: string;
  x: number;
  y: number;
  text: string;
}

/** NotePrefix marks a canvas node that is a sticky note, not a flow node. */
export const NotePrefix = 'note:';

export const isNoteId = (id: string) => id.startsWith(NotePrefix);

/** notesOf reads the flow's sticky notes, skipping anything malformed. */
export function notesOf(doc: FlowDoc): StickyNote[] {
  const raw = doc.meta?.notes;
  if (!Array.isArray(raw)) return [];
  const out: StickyNote[] = [];
  for (const r of raw) {
    if (!r || typeof r !== 'object' || Array.isArray(r)) continue;
    const o = r as Record<string, Json>;
    if (typeof o.id !== 'string' || !o.id) continue;
    out.push({ id: o.id, x: typeof o.x === 'number' ? o.x : 0, y: typeof o.y === 'number' ? o.y : 0, text: typeof o.text === 'string' ? o.text : '' });
  }
  return out;
}

function withNotes(doc: FlowDoc, notes: StickyNote[]): FlowDoc {
  const meta = { ...(doc.meta ?? {}) };
  if (notes.length) meta.notes = notes.map((n) => ({ id: n.id, x: Math.round(n.x), y: Math.round(n.y), text: n.text }));
  else delete meta.notes;
  const d: FlowDoc = { ...doc, meta };
  if (Object.keys(meta).length === 0) delete d.meta;
  return d;
}

/** addNote adds an empty note at (x, y) and returns the document and the note's id. */
export function addNote(doc: FlowDoc, x: number, y: number, text = ''): { doc: FlowDoc; id: string } {
  const taken = new Set(notesOf(doc).map((n) => n.id));
  let i = taken.size + 1;
  while (taken.has(`n${i}`)) i++;
  const id = `n${i}`;
  return { doc: withNotes(doc, [...notesOf(doc), { id, x, y, text }]), id };
}

/** updateNote changes one note's text or position. */
export function updateNote(doc: FlowDoc, id: string, patch: Partial<Omit<StickyNote, 'id'>>): FlowDoc {
  return withNotes(
    doc,
    notesOf(doc).map((n) => (n.id === id ? { ...n, ...patch } : n)),
  );
}

/** deleteNotes removes notes by id. */
export function deleteNotes(doc: FlowDoc, ids: string[]): FlowDoc {
  if (!ids.length) return doc;
  const gone = new Set(ids);
  return withNotes(
    doc,
    notesOf(doc).filter((n) => !gone.has(n.id)),
  );
}
