// The flow document seen as a graph: which exits each node type has (each
// one a handle on the canvas, named by its JSON path inside the node, so a
// validator pointer such as /nodes/3/cases/0/next finds it), and the
// immutable edits the canvas makes (connect, disconnect, rename, delete,
// paste). The document stays the single source of truth.

import type { FlowDoc, FlowNode } from '../types';

/** NodeTypes are the node types of format v1, in palette order. */
export const NodeTypes = ['send', 'wait_reply', 'branch', 'template', 'handoff', 'auto_reply', 'set', 'http'] as const;

export interface Exit {
  /** handle id: the exit's JSON path inside the node ("next", "cases/0/next"). */
  handle: string;
  label: string;
  target?: string;
}

function caseLabel(c: { when: string; label?: string }, i: number): string {
  if (c.label) return c.label;
  if (c.when) return c.when.length > 28 ? c.when.slice(0, 27) + '…' : c.when;
  return `case ${i + 1}`;
}

function ruleLabel(r: { keywords?: string[]; pattern?: string; when?: string }, i: number): string {
  const s = r.keywords?.join(', ') || r.pattern || r.when || `rule ${i + 1}`;
  return s.length > 28 ? s.slice(0, 27) + '…' : s;
}

/** choicesOf lists the buttons or list rows of a wait's prompt as exits: "prompt/buttons/0/next". */
export function choicesOf(n: FlowNode): Exit[] {
  if (n.type !== 'wait_reply' || !n.prompt) return [];
  const out: Exit[] = [];
  const cut = (s: string) => (s.length > 24 ? s.slice(0, 23) + '…' : s);
  (n.prompt.buttons ?? []).forEach((b, i) => out.push({ handle: `prompt/buttons/${i}/next`, label: `“${cut(b.title || b.id || `button ${i + 1}`)}”`, target: b.next || undefined }));
  (n.prompt.sections ?? []).forEach((sec, si) =>
    (sec.rows ?? []).forEach((r, ri) => out.push({ handle: `prompt/sections/${si}/rows/${ri}/next`, label: `“${cut(r.title || r.id || `row ${ri + 1}`)}”`, target: r.next || undefined })),
  );
  return out;
}

/** exitsOf lists every exit the node's type offers, set or not. */
export function exitsOf(n: FlowNode): Exit[] {
  const out: Exit[] = [];
  const add = (handle: string, label: string, target?: string) => out.push({ handle, label, target: target || undefined });
  switch (n.type) {
    case 'send':
      add('next', 'next', n.next);
      add('on_window_closed', 'on_window_closed', n.on_window_closed);
      add('on_error', 'on_error', n.on_error);
      break;
    case 'wait_reply':
      // One handle per choice of a buttons or list prompt (docs/flow-format.md, "Per-choice exits").
      for (const ch of choicesOf(n)) add(ch.handle, ch.label, ch.target);
      add('next', choicesOf(n).length ? 'other' : 'next', n.next);
      add('on_invalid', 'on_invalid', n.on_invalid);
      add('on_timeout', 'on_timeout', n.on_timeout);
      add('on_window_closing/next', 'on_window_closing', n.on_window_closing?.next);
      add('on_window_closed', 'on_window_closed', n.on_window_closed);
      add('on_error', 'on_error', n.on_error);
      break;
    case 'branch':
      (n.cases ?? []).forEach((c, i) => add(`cases/${i}/next`, caseLabel(c, i), c.next));
      add('default', 'default', typeof n.default === 'string' ? n.default : undefined);
      break;
    case 'template':
      add('next', 'next', n.next);
      add('on_blocked', 'on_blocked', n.on_blocked);
      add('on_error', 'on_error', n.on_error);
      break;
    case 'handoff':
      add('next', 'next', n.next);
      add('on_no_agent', 'on_no_agent', n.on_no_agent);
      break;
    case 'http':
      add('next', 'next (2xx)', n.next);
      add('on_error', 'on_error', n.on_error);
      break;
    case 'auto_reply':
      (n.rules ?? []).forEach((r, i) => add(`rules/${i}/next`, ruleLabel(r, i), r.next));
      if (n.default && typeof n.default === 'object') add('default/next', 'default', n.default.next);
      if (n.hours) add('hours/closed_next', 'closed', n.hours.closed_next);
      add('next', 'next', n.next);
      break;
    default:
      add('next', 'next', n.next);
  }
  return out;
}

/**
 * exitName is how the engine names an exit in analytics (nodes/exits.go):
 * the handle without a trailing "/next", except hours/closed_next.
 */
export function exitName(handle: string): string {
  return handle !== 'next' && handle.endsWith('/next') ? handle.slice(0, -'/next'.length) : handle;
}

/** setExit returns the node with one exit pointed at target (or cleared). */
export function setExit(n: FlowNode, handle: string, target: string | undefined): FlowNode {
  const c: FlowNode = { ...n };
  const parts = handle.split('/');
  if (parts.length === 1) {
    const k = handle as 'next' | 'on_window_closed' | 'on_error' | 'on_invalid' | 'on_timeout' | 'on_blocked' | 'on_no_agent' | 'default';
    if (target) (c as unknown as Record<string, unknown>)[k] = target;
    else delete (c as unknown as Record<string, unknown>)[k];
    return c;
  }
  if (parts[0] === 'prompt' && n.prompt) {
    const set = <T extends { next?: string }>(o: T): T => {
      const c2 = { ...o };
      if (target) c2.next = target;
      else delete c2.next;
      return c2;
    };
    if (parts[1] === 'buttons') {
      const i = Number(parts[2]);
      c.prompt = { ...n.prompt, buttons: (n.prompt.buttons ?? []).map((b, j) => (j === i ? set(b) : b)) };
    } else if (parts[1] === 'sections') {
      const si = Number(parts[2]);
      const ri = Number(parts[4]);
      c.prompt = {
        ...n.prompt,
        sections: (n.prompt.sections ?? []).map((sec, j) => (j === si ? { ...sec, rows: sec.rows.map((r, k) => (k === ri ? set(r) : r)) } : sec)),
      };
    }
    return c;
  }
  if (handle === 'on_window_closing/next') {
    if (target) c.on_window_closing = { before: n.on_window_closing?.before || '30m', next: target };
    else delete c.on_window_closing;
    return c;
  }
  if (parts[0] === 'cases') {
    const i = Number(parts[1]);
    c.cases = (n.cases ?? []).map((cs, j) => (j === i ? { ...cs, next: target ?? '' } : cs));
    return c;
  }
  if (parts[0] === 'rules') {
    const i = Number(parts[1]);
    c.rules = (n.rules ?? []).map((r, j) => {
      if (j !== i) return r;
      const nr = { ...r };
      if (target) nr.next = target;
      else delete nr.next;
      return nr;
    });
    return c;
  }
  if (handle === 'default/next' && n.default && typeof n.default === 'object') {
    const d = { ...n.default };
    if (target) d.next = target;
    else delete d.next;
    c.default = d;
    return c;
  }
  if (handle === 'hours/closed_next' && n.hours) {
    const h = { ...n.hours };
    if (target) h.closed_next = target;
    else delete h.closed_next;
    c.hours = h;
    return c;
  }
  return c;
}

export interface Edge {
  id: string;
  source: string;
  sourceHandle: string;
  target: string;
  label: string;
}

/** edgeId names the edge of one exit. */
export const edgeId = (source: string, handle: string) => `${source}::${handle}`;

/** edgesOf lists the set exits of every node as edges (to existing nodes only). */
export function edgesOf(doc: FlowDoc): Edge[] {
  const ids = new Set(doc.nodes.map((n) => n.id));
  const out: Edge[] = [];
  for (const n of doc.nodes) {
    for (const e of exitsOf(n)) {
      if (e.target && ids.has(e.target)) {
        out.push({ id: edgeId(n.id, e.handle), source: n.id, sourceHandle: e.handle, target: e.target, label: e.label });
      }
    }
  }
  return out;
}

/** replaceNode swaps one node (by id) for another. */
export function replaceNode(doc: FlowDoc, id: string, next: FlowNode): FlowDoc {
  return { ...doc, nodes: doc.nodes.map((n) => (n.id === id ? next : n)) };
}

/** connect points source's exit handle at target. */
export function connect(doc: FlowDoc, source: string, handle: string, target: string | undefined): FlowDoc {
  const n = doc.nodes.find((x) => x.id === source);
  if (!n) return doc;
  return replaceNode(doc, source, setExit(n, handle, target));
}

/** retarget moves every exit that names one of from (null: any node) to to(old); undefined clears it. */
function retarget(n: FlowNode, from: Set<string> | null, to: (old: string) => string | undefined): FlowNode {
  let c = n;
  for (const e of exitsOf(n)) {
    if (e.target && (!from || from.has(e.target))) c = setExit(c, e.handle, to(e.target));
  }
  return c;
}

/** renameNode gives a node a new id and follows it everywhere it is named. */
export function renameNode(doc: FlowDoc, from: string, to: string): FlowDoc {
  if (from === to || doc.nodes.some((n) => n.id === to)) return doc;
  const set = new Set([from]);
  return {
    ...doc,
    start: doc.start === from ? to : doc.start,
    reengage: doc.reengage === from ? to : doc.reengage,
    interrupts: doc.interrupts?.map((it) => (it.goto === from ? { ...it, goto: to } : it)),
    nodes: doc.nodes.map((n) => retarget(n.id === from ? { ...n, id: to } : n, set, () => to)),
  };
}

/** deleteNodes removes nodes and every exit that led to them. */
export function deleteNodes(doc: FlowDoc, ids: string[]): FlowDoc {
  const gone = new Set(ids);
  if (gone.size === 0) return doc;
  const nodes = doc.nodes.filter((n) => !gone.has(n.id)).map((n) => retarget(n, gone, () => undefined));
  const d: FlowDoc = { ...doc, nodes };
  if (gone.has(doc.start)) d.start = nodes[0]?.id ?? '';
  if (doc.reengage && gone.has(doc.reengage)) delete d.reengage;
  return d;
}

/** uniqueId is base, or base_2, base_3… : the first not taken. */
export function uniqueId(taken: Set<string>, base: string): string {
  const clean = base.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 60) || 'node';
  if (!taken.has(clean)) return clean;
  for (let i = 2; ; i++) {
    const id = `${clean}_${i}`;
    if (!taken.has(id)) return id;
  }
}

/** newNode is a fresh node of a type with the fields its type requires. */
export function newNode(type: string, id: string, x: number, y: number): FlowNode {
  const meta = { x: Math.round(x), y: Math.round(y) };
  switch (type) {
    case 'send':
      return { id, type, meta, message: { type: 'text', text: '' } };
    case 'wait_reply':
      return { id, type, meta, save_as: 'answer' };
    case 'branch':
      return { id, type, meta, cases: [] };
    case 'template':
      return { id, type, meta, template: { name: '', language: 'en_US' } };
    case 'handoff':
      return { id, type, meta, queue: 'support' };
    case 'auto_reply':
      return { id, type, meta, rules: [] };
    case 'set':
      return { id, type, meta, vars: { name: "''" } };
    case 'http':
      return { id, type, meta, method: 'GET', url: 'https://', save_as: 'result' };
  }
  return { id, type, meta };
}

/** addNode appends a node; the first node of a flow becomes its start. */
export function addNode(doc: FlowDoc, n: FlowNode): FlowDoc {
  return { ...doc, start: doc.start || n.id, nodes: [...doc.nodes, n] };
}

/**
 * pasteNodes adds copies of nodes with fresh ids, offset by (dx, dy). Exits
 * between copied nodes follow the copies; exits to nodes outside the copy
 * are kept when that node exists in doc, else dropped. Returns the new
 * document and the new ids.
 */
export function pasteNodes(doc: FlowDoc, nodes: FlowNode[], dx: number, dy: number): { doc: FlowDoc; ids: string[] } {
  const taken = new Set(doc.nodes.map((n) => n.id));
  const map = new Map<string, string>();
  for (const n of nodes) {
    const id = uniqueId(taken, n.id);
    taken.add(id);
    map.set(n.id, id);
  }
  const existing = new Set(doc.nodes.map((n) => n.id));
  const copies = nodes.map((n) => {
    const c: FlowNode = structuredClone(n);
    c.id = map.get(n.id)!;
    c.meta = { ...(c.meta ?? {}), x: (n.meta?.x ?? 0) + dx, y: (n.meta?.y ?? 0) + dy };
    return retarget(c, null, (old) => map.get(old) ?? (existing.has(old) ? old : undefined));
  });
  return { doc: { ...doc, start: doc.start || copies[0]?.id || '', nodes: [...doc.nodes, ...copies] }, ids: copies.map((c) => c.id) };
}

/** moveNodes writes canvas positions into each node's meta. */
export function moveNodes(doc: FlowDoc, pos: Map<string, { x: number; y: number }>): FlowDoc {
  if (pos.size === 0) return doc;
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      const p = pos.get(n.id);
      if (!p) return n;
      return { ...n, meta: { ...(n.meta ?? {}), x: Math.round(p.x), y: Math.round(p.y) } };
    }),
  };
}

/** hasPositions tells whether every node carries a position in its meta. */
export function hasPositions(doc: FlowDoc): boolean {
  return doc.nodes.every((n) => typeof n.meta?.x === 'number' && typeof n.meta?.y === 'number');
}

/** emptyFlow is a new flow document with one send node. */
export function emptyFlow(id: string, name: string): FlowDoc {
  return { format: 'parley/flow@1', id, name, start: '', nodes: [] };
}
