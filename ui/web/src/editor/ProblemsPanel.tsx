import type { FlowDoc, Problem } from '../types';
import { locate } from './pointer';

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
              <span className="where mono">{loc.node ? `${loc.node}${loc.field ? ' › ' + loc.field : ''}` : p.pointer || 'flow'}</span>
              <span className="msg">{p.message}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
