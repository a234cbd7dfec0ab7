// An undo stack of immutable documents. Edits that come in a burst from
// one field (typing) share a key and coalesce into one undo step. Each step
// carries a label saying what it did ("paste 2 nodes"), so that undo can say
// what it undoes.

export const MaxUndo = 200;
/** CoalesceMs is how close two edits with the same key must be to merge. */
export const CoalesceMs = 1000;

export interface History<T> {
  past: T[];
  present: T;
  future: T[];
  /** pastLabels[i] says what the step from past[i] to the next state did. */
  pastLabels: string[];
  futureLabels: string[];
  lastKey?: string;
  lastAt: number;
}

export function initHistory<T>(present: T): History<T> {
  return { past: [], present, future: [], pastLabels: [], futureLabels: [], lastAt: 0 };
}

/** push records next as the present; key, when set, merges with the last edit of the same key. */
export function push<T>(h: History<T>, next: T, key?: string, now = Date.now(), label = 'edit'): History<T> {
  if (next === h.present) return h;
  if (key && key === h.lastKey && now - h.lastAt < CoalesceMs && h.past.length > 0) {
    return { ...h, present: next, future: [], futureLabels: [], lastKey: key, lastAt: now };
  }
  const past = [...h.past, h.present];
  const pastLabels = [...h.pastLabels, label];
  if (past.length > MaxUndo) {
    past.splice(0, past.length - MaxUndo);
    pastLabels.splice(0, pastLabels.length - MaxUndo);
  }
  return { past, present: next, future: [], pastLabels, futureLabels: [], lastKey: key, lastAt: now };
}

/** replace changes the present without an undo step (a server's echo, say). */
export function replace<T>(h: History<T>, next: T): History<T> {
  return { ...h, present: next };
}

/** undoLabel says what undo would undo, or "" when there is nothing. */
export function undoLabel<T>(h: History<T>): string {
  return h.pastLabels[h.pastLabels.length - 1] ?? '';
}

/** redoLabel says what redo would redo, or "". */
export function redoLabel<T>(h: History<T>): string {
  return h.futureLabels[0] ?? '';
}

export function undo<T>(h: History<T>): History<T> {
  if (h.past.length === 0) return h;
  const past = h.past.slice(0, -1);
  const label = undoLabel(h);
  return {
    past,
    present: h.past[h.past.length - 1],
    future: [h.present, ...h.future],
    pastLabels: h.pastLabels.slice(0, -1),
    futureLabels: [label, ...h.futureLabels],
    lastAt: 0,
  };
}

export function redo<T>(h: History<T>): History<T> {
  if (h.future.length === 0) return h;
  const [present, ...future] = h.future;
  const [label, ...futureLabels] = h.futureLabels;
  return { past: [...h.past, h.present], present, future, pastLabels: [...h.pastLabels, label ?? 'edit'], futureLabels, lastAt: 0 };
}
