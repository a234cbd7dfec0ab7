// Validator problems carry a JSON pointer (RFC 6901) into the flow
// document. The editor maps each to the node it concerns (by index in
// /nodes, then to that node's id) and to the field inside it, so that the
// canvas can mark the node and the properties panel the field.

import type { FlowDoc, FlowNode, Message, Problem } from '../types';

/** parsePointer splits a JSON pointer into its unescaped tokens. */
export function parsePointer(p: string): string[] {
  if (!p || p === '/') return [];
  return p
    .replace(/^\//, '')
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export interface Located {
  /** node id, when the pointer is inside /nodes/i. */
  node?: string;
  /** the path inside the node ("message/text", "cases/0/when"), "" for the node itself. */
  field: string;
}

/** locate finds the node and field a pointer names in doc. */
export function locate(doc: FlowDoc, pointer: string): Located {
  const t = parsePointer(pointer);
  if (t[0] === 'nodes' && t.length >= 2 && /^\d+$/.test(t[1])) {
    const n = doc.nodes[Number(t[1])];
    if (n) return { node: n.id, field: t.slice(2).join('/') };
  }
  // Flow-level fields that name a node: the node named is the one to show.
  if ((t[0] === 'start' || t[0] === 'reengage') && t.length === 1) {
    const id = (doc as unknown as Record<string, unknown>)[t[0]];
    if (typeof id === 'string' && doc.nodes.some((n) => n.id === id)) return { node: id, field: '' };
  }
  return { field: t.join('/') };
}

export interface ProblemIndex {
  /** node id → its problems. */
  byNode: Map<string, (Problem & { field: string })[]>;
  /** problems of the flow as a whole. */
  flow: (Problem & { field: string })[];
  errors: number;
  warnings: number;
}

/** indexProblems groups problems by node, for marks on the canvas and panel. */
export function indexProblems(doc: FlowDoc, problems: Problem[]): ProblemIndex {
  const idx: ProblemIndex = { byNode: new Map(), flow: [], errors: 0, warnings: 0 };
  for (const p of problems) {
    if (p.severity === 'error') idx.errors++;
    else idx.warnings++;
    const loc = locate(doc, p.pointer);
    const item = { ...p, field: loc.field };
    if (loc.node) {
      const l = idx.byNode.get(loc.node) ?? [];
      l.push(item);
      idx.byNode.set(loc.node, l);
    } else idx.flow.push(item);
  }
  return idx;
}

/** fieldProblems are the problems at field or under it. */
export function fieldProblems<T extends { field: string }>(list: T[] | undefined, field: string): T[] {
  if (!list) return [];
  return list.filter((p) => p.field === field || p.field.startsWith(field + '/'));
}

const fieldNames: Record<string, string> = {
  prompt: 'question',
  message: 'message',
  retry: 'retry message',
  text: 'text',
  header: 'header',
  footer: 'footer',
  button: 'list button',
  next: 'next',
  when: 'condition',
  valid: 'valid when',
  save_as: 'saved as',
  on_window_closing: 'window closing',
  closed_reply: 'closed reply',
  closed_next: 'closed',
  display_text: 'link text',
  meta: 'details',
};

/**
 * fieldWords says where a problem is inside a node in the analyst's words:
 * "prompt/buttons/0/next" of a node is `button “Order” › next`,
 * "cases/1/when" is "case 2 › condition".
 */
export function fieldWords(n: FlowNode | undefined, field: string): string {
  if (!field) return '';
  const t = field.split('/');
  const out: string[] = [];
  let msg: Message | undefined;
  for (let i = 0; i < t.length; i++) {
    const k = t[i];
    const idx = Number(t[i + 1]);
    const hasIdx = t[i + 1] !== undefined && /^\d+$/.test(t[i + 1]);
    if (k === 'prompt' || k === 'message' || k === 'retry') msg = n?.[k];
    if (k === 'buttons' && hasIdx) {
      const title = msg?.buttons?.[idx]?.title ?? n?.template?.buttons?.[idx]?.payload;
      out.push(title ? `button “${title}”` : `button ${idx + 1}`);
      i++;
    } else if (k === 'sections' && hasIdx && t[i + 2] === 'rows' && /^\d+$/.test(t[i + 3] ?? '')) {
      const title = msg?.sections?.[idx]?.rows?.[Number(t[i + 3])]?.title;
      out.push(title ? `row “${title}”` : `row ${Number(t[i + 3]) + 1} of section ${idx + 1}`);
      i += 3;
    } else if (k === 'sections' && hasIdx) {
      out.push(`section ${idx + 1}`);
      i++;
    } else if ((k === 'cases' || k === 'rules') && hasIdx) {
      const c = k === 'cases' ? n?.cases?.[idx]?.label : undefined;
      out.push(c ? `${k === 'cases' ? 'case' : 'rule'} “${c}”` : `${k === 'cases' ? 'case' : 'rule'} ${idx + 1}`);
      i++;
    } else if (hasIdx) {
      out.push(`${fieldNames[k] ?? k.replace(/_/g, ' ')} ${idx + 1}`);
      i++;
    } else out.push(fieldNames[k] ?? k.replace(/_/g, ' '));
  }
  return out.join(' › ');
}

/** nodeWords names a node as the canvas shows it: its label, else its id. */
export function nodeWords(n: FlowNode | undefined, id: string): string {
  const l = n?.meta?.label;
  return typeof l === 'string' && l.trim() ? l.trim() : id;
}
