// Validator problems carry a JSON pointer (RFC 6901) into the flow
// document. The editor maps each to the node it concerns (by index in
// /nodes, then to that node's id) and to the field inside it, so that the
// canvas can mark the node and the properties panel the field.

import type { FlowDoc, Problem } from '../types';

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
