// An undo stack of immutable documents. Edits that come in a burst from
// one field (typing) share a key and coalesce into one undo step.

export const MaxUndo = 200;
/** CoalesceMs is how close two edits with the same key must be to merge. */
export const CoalesceMs = 1000;

export interface History<T> {
  past: T[];
  present: T;
  future: T[];
  lastKey?: string;
  lastAt: number;
}

export function initHistory<T>(present: T): History<T> {
  return { past: [], present, future: [], lastAt: 0 };
}

/** push records next as the present; key, when set, merges with the last edit of the same key. */
export function push<T>(h: History<T>, next: T, key?: string, now = Date.now()): History<T> {
  if (next === h.present) return h;
  if (key && key === h.lastKey && now - h.lastAt < CoalesceMs && h.past.length > 0) {
    return { past: h.past, present: next, future: [], lastKey: key, lastAt: now };
  }
  const past = [...h.past, h.present];
  if (past.length > MaxUndo) past.splice(0, past.length - MaxUndo);
  return { past, present: next, future: [], lastKey: key, lastAt: now };
}

/** replace changes the present without an undo step (a server's echo, say). */
export function replace<T>(h: History<T>, next: T): History<T> {
  return { ...h, present: next };
}

export function undo<T>(h: History<T>): History<T> {
  if (h.past.length === 0) return h;
  const past = h.past.slice(0, -1);
  return { past, present: h.past[h.past.length - 1], future: [h.present, ...h.future], lastAt: 0 };
}

export function redo<T>(h: History<T>): History<T> {
  if (h.future.length === 0) return h;
  const [present, ...future] = h.future;
  return { past: [...h.past, h.present], present, future, lastAt: 0 };
}
