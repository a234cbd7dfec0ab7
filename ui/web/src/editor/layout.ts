// Auto-layout: dagre ranks the graph left to right (exits leave on the right).
import dagre from '@dagrejs/dagre';
import type { FlowDoc } from '../types';
import { edgesOf, exitsOf } from './graph';

export const NodeWidth = 220;

/** nodeHeight estimates a node's height on the canvas: a header, a summary, and one row per exit. */
export function nodeHeight(exits: number): number {
  return 64 + exits * 20;
}

/** layout returns a position for every node. */
export function layout(doc: FlowDoc): Map<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of doc.nodes) g.setNode(n.id, { width: NodeWidth, height: nodeHeight(exitsOf(n).length) });
  for (const e of edgesOf(doc)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  const out = new Map<string, { x: number; y: number }>();
  for (const n of doc.nodes) {
    const p = g.node(n.id);
    if (p) out.set(n.id, { x: p.x - p.width / 2, y: p.y - p.height / 2 });
  }
  return out;
}
