// A flow's analytics as the analytics page reads them: the funnel along
// the main path (from the start, at each node the exit most conversations
// took) and the trend by day.
import { exitName, exitsOf } from '../editor/graph';
import type { FlowDoc, FlowNode, NodeStats } from '../types';

export interface DayTrend {
  day: string;
  started: number;
  ended: number;
  expired: number;
  failed: number;
}

export interface FlowAnalytics {
  from: string;
  to: string;
  nodes: Record<string, NodeStats>;
  days: DayTrend[];
}

export interface FunnelStep {
  node: string;
  type: string;
  entered: number;
  /** the exit taken onwards, "" at the end of the path. */
  exit: string;
  /** share of the conversations that entered the first step, 0 to 1. */
  share: number;
}

/**
 * mainPath follows the flow from its start, at each node along the exit
 * most conversations took (the first set exit when none took any), until
 * a node without exits or one already on the path.
 */
export function mainPath(doc: FlowDoc, stats: Record<string, NodeStats>): FunnelStep[] {
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const seen = new Set<string>();
  const out: FunnelStep[] = [];
  let id: string | undefined = doc.start;
  while (id && byId.has(id) && !seen.has(id)) {
    seen.add(id);
    const n: FlowNode = byId.get(id)!;
    const st: NodeStats | undefined = stats[id];
    let best: { target?: string; name: string; n: number } | null = null;
    for (const e of exitsOf(n)) {
      if (!e.target) continue;
      const c: number = st?.exits?.[exitName(e.handle)] ?? 0;
      if (!best || c > best.n) best = { target: e.target, name: exitName(e.handle), n: c };
    }
    out.push({ node: id, type: n.type, entered: st?.entered ?? 0, exit: best?.name ?? '', share: 0 });
    id = best?.target;
  }
  const first = out[0]?.entered ?? 0;
  for (const s of out) s.share = first > 0 ? Math.min(1, s.entered / first) : 0;
  return out;
}

/** percent writes a share as "42%". */
export function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** stoppedHere is the log's URL of a flow's conversations at (or stopped at) a node. */
export function stoppedHere(flow: string, node: string, status = ''): string {
  const q = new URLSearchParams({ flow, node });
  if (status) q.set('status', status);
  return '/conversations?' + q.toString();
}
