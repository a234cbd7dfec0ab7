import { memo, useEffect, useState } from 'react';
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import type { FlowNode, NodeStats } from '../types';
import { exitName, type Exit } from './graph';
import { nodeSummary, TypeLabels } from './summary';
import { NodeWidth } from './layout';
import { shapeOf, templates } from './TemplatePicker';
import { preview } from '../templates/fill';
import type { TemplateSummary } from '../types';

export interface FlowNodeData extends Record<string, unknown> {
  node: FlowNode;
  exits: Exit[];
  start: boolean;
  errors: number;
  warnings: number;
  active: boolean;
  stats?: NodeStats;
  /** the node's problems, worded, for the badge's tooltip. */
  messages?: string[];
}

export type CanvasNode = Node<FlowNodeData, 'flow'>;

function pct(n: number | undefined, of: number | undefined): string {
  if (!of) return '–';
  return `${Math.round(((n ?? 0) * 100) / of)}%`;
}

/** FlowNodeView draws one node: its type and id, a summary, and a labelled handle per exit. */
export const FlowNodeView = memo(function FlowNodeView({ data, selected }: NodeProps<CanvasNode>) {
  const { node, exits, start, errors, warnings, active, stats, messages } = data;
  const label = typeof node.meta?.label === 'string' && node.meta.label.trim() ? node.meta.label.trim() : '';
  const tip = messages?.slice(0, 5).join('\n') ?? '';
  const cls = ['fnode', `t-${node.type}`, selected ? 'selected' : '', errors ? 'has-error' : warnings ? 'has-warning' : '', active ? 'active' : ''].join(' ');
  const dropped = stats ? (stats.dropped.ended ?? 0) + (stats.dropped.expired ?? 0) + (stats.dropped.failed ?? 0) : 0;
  return (
    <div className={cls} style={{ width: NodeWidth }} data-testid={`node-${node.id}`} data-node-id={node.id}>
      <Handle type="target" position={Position.Left} className="in" />
      <div className="fnode-head">
        <span className="fnode-type">{TypeLabels[node.type] ?? node.type}</span>
        {start && <span className="pill start" title="The flow starts here">start</span>}
        {errors > 0 && (
          <span className="pill err badge-problem" data-testid={`node-errors-${node.id}`} title={tip || `${errors} error(s)`} aria-label={`${errors} error(s)`}>
            ⚠ {errors}
          </span>
        )}
        {errors === 0 && warnings > 0 && (
          <span className="pill warn badge-problem" data-testid={`node-warnings-${node.id}`} title={tip || `${warnings} warning(s)`} aria-label={`${warnings} warning(s)`}>
            ⚠ {warnings}
          </span>
        )}
      </div>
      <div className={`fnode-id ${label ? '' : 'mono'}`} title={label ? node.id : undefined}>
        {label || node.id}
      </div>
      <div className="fnode-sum">{nodeSummary(node) || '\u00a0'}</div>
      {node.type === 'template' && node.template?.name && <TemplateNodeText node={node} />}
      {stats && (
        <div className="fnode-stats" data-testid={`node-stats-${node.id}`}>
          <span title="conversations that entered">in {stats.entered}</span>
          <span title="dropped off here (ended, expired, failed)">dropped {dropped}</span>
          {stats.sends && (stats.sends.sent ?? 0) > 0 && (
            <span title="delivered / read / failed of sent">
              delivered {pct(stats.sends.delivered, stats.sends.sent)} · read {pct(stats.sends.read, stats.sends.sent)} · failed {pct(stats.sends.failed, stats.sends.sent)}
            </span>
          )}
        </div>
      )}
      <div className="fnode-exits">
        {exits.map((e) => (
          <div key={e.handle} className={`exit ${e.target ? 'set' : ''}`} data-testid={`handle-${node.id}-${e.handle}`}>
            <span className="exit-label">{e.label}</span>
            {stats && <span className="exit-count">{stats.exits?.[exitName(e.handle)] ?? 0}</span>}
            <Handle type="source" position={Position.Right} id={e.handle} className={`out h-${e.handle.split('/')[0]}`} />
          </div>
        ))}
      </div>
    </div>
  );
});

/** TemplateNodeText: a template node's body as the customer reads it, its parameters filled in. */
function TemplateNodeText({ node }: { node: FlowNode }) {
  const [list, setList] = useState<TemplateSummary[] | null>(null);
  useEffect(() => {
    let live = true;
    void templates().then((l) => live && setList(l));
    return () => {
      live = false;
    };
  }, []);
  const t = node.template!;
  const info = list?.find((x) => x.name === t.name && x.language === t.language);
  if (!info) return null;
  const { name: _n, language: _l, ...fill } = t;
  const v = preview(info.texts, shapeOf(info, t), fill);
  const text = [v.media, v.header, v.body].filter(Boolean).join(' · ');
  return (
    <div className="fnode-tpl small muted" data-testid={`node-template-text-${node.id}`} title={text}>
      {text.length > 90 ? text.slice(0, 89) + '…' : text}
    </div>
  );
}
