import type { FlowDoc, Problem } from '../types';
import { fieldWords, locate, nodeWords } from './pointer';

/** ProblemsPanel lists the validator's problems; a click shows the node and field. */
export function ProblemsPanel({ doc, problems, onFocus }: { doc: FlowDoc; problems: Problem[]; onFocus: (node: string | undefined, field: string) => void }) {
  if (!problems.length) return <p className="empty" data-testid="no-problems">No problems: the flow can be published.</p>;
  const sorted = [...problems].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  return (
    <ul className="problems" data-testid="problems">
      {sorted.map((p, i) => {
        const loc = locate(doc, p.pointer);
        return (
          <li key={i} className={p.severity}>
            <button className="link" onClick={() => onFocus(loc.node, loc.field)} data-testid="problem" data-node={loc.node ?? ''} data-pointer={p.pointer}>
              <span className={`sev ${p.severity}`}>{p.severity}</span>
              <span className="where" title={p.pointer}>
                {where(doc, loc.node, loc.field, p.pointer)}
              </span>
              <span className="msg">{p.message}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** where names a problem's place as the editor shows it: the node's label and the field in words. */
function where(doc: FlowDoc, node: string | undefined, field: string, pointer: string): string {
  if (!node) return field ? fieldWords(undefined, field) : pointer ? pointer.replace(/^\//, '').replace(/\//g, ' › ') : 'flow';
  const n = doc.nodes.find((x) => x.id === node);
  const f = fieldWords(n, field);
  return `${nodeWords(n, node)}${f ? ' › ' + f : ''}`;
}
