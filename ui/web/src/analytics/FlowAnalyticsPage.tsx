// A flow's analytics (issue 15 §3): the funnel along the main path, the
// trend by day, each node's counts with a link to the conversations that
// stopped there, and the flow's results (the variables its conversations
// saved) as CSV.
import { useEffect, useState } from 'react';
import { enc, get } from '../api';
import { linkProps } from '../router';
import type { FlowDetail, FlowDoc, VersionSummary } from '../types';
import { mainPath, percent, stoppedHere, type FlowAnalytics } from './model';
import './analytics.css';

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function FlowAnalyticsPage({ flowId }: { flowId: string }) {
  const [from, setFrom] = useState(() => day(new Date(Date.now() - 29 * 86_400_000)));
  const [to, setTo] = useState(() => day(new Date()));
  const [doc, setDoc] = useState<FlowDoc | null>(null);
  const [a, setA] = useState<FlowAnalytics | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    (async () => {
      const f = await get<FlowDetail>(`/flows/${enc(flowId)}`);
      if (f.published_version > 0) {
        const v = await get<VersionSummary & { doc: FlowDoc }>(`/flows/${enc(flowId)}/versions/${f.published_version}`);
        setDoc(v.doc);
      } else setDoc(f.draft);
    })().catch((e) => setError((e as Error).message));
  }, [flowId]);

  useEffect(() => {
    let live = true;
    get<FlowAnalytics>(`/flows/${enc(flowId)}/analytics?from=${from}&to=${to}`).then(
      (r) => live && (setA(r), setError('')),
      (e) => live && setError((e as Error).message),
    );
    return () => {
      live = false;
    };
  }, [flowId, from, to]);

  const funnel = doc && a ? mainPath(doc, a.nodes) : [];
  const peak = Math.max(1, ...(a?.days ?? []).map((d) => Math.max(d.started, d.ended + d.expired + d.failed)));
  const nodes = doc?.nodes ?? [];
  return (
    <div className="analytics-page" data-testid="flow-analytics">
      <div className="toolbar">
        <a {...linkProps('/flows/' + enc(flowId))}>← Editor</a>
        <h1>
          Analytics · <span className="mono">{flowId}</span>
        </h1>
        <span className="spacer" />
        <label>
          From <input type="date" value={from} max={to} onChange={(e) => setFrom(e.target.value)} data-testid="fa-from" />
        </label>
        <label>
          to <input type="date" value={to} min={from} onChange={(e) => setTo(e.target.value)} data-testid="fa-to" />
        </label>
        <a className="button" href={`/api/v1/flows/${enc(flowId)}/results.csv?from=${from}&to=${to}`} download={`${flowId}-results.csv`} data-testid="fa-export">
          Export results (CSV)
        </a>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <section>
        <h2>Funnel along the main path</h2>
        <p className="muted">From the start, at each step the way most conversations went.</p>
        <ol className="funnel" data-testid="fa-funnel">
          {funnel.map((s) => (
            <li key={s.node} data-testid="fa-step" data-node={s.node}>
              <span className="mono step-name">{s.node}</span>
              <span className="bar" style={{ width: `${Math.max(2, s.share * 100)}%` }} />
              <span className="step-n">
                {s.entered} · {percent(s.share)}
              </span>
            </li>
          ))}
        </ol>
      </section>
      <section>
        <h2>By day</h2>
        <div className="trend" data-testid="fa-trend" role="img" aria-label="Conversations started and stopped each day">
          {(a?.days ?? []).map((d) => (
            <div key={d.day} className="trend-day" title={`${d.day}: ${d.started} started, ${d.ended} ended, ${d.expired} expired, ${d.failed} failed`} data-testid="fa-day" data-day={d.day} data-started={d.started}>
              <span className="t-started" style={{ height: `${(d.started / peak) * 100}%` }} />
              <span className="t-stopped" style={{ height: `${((d.ended + d.expired + d.failed) / peak) * 100}%` }} />
            </div>
          ))}
        </div>
        <p className="hint">
          <span className="key t-started" /> started <span className="key t-stopped" /> stopped (ended, expired or failed)
        </p>
      </section>
      <section>
        <h2>Nodes</h2>
        <div className="scroll-x">
          <table className="list" data-testid="fa-nodes">
            <thead>
              <tr>
                <th>Node</th>
                <th>Entered</th>
                <th>Went on by</th>
                <th>Stopped here</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {nodes.map((n) => {
                const st = a?.nodes[n.id];
                const stopped = (st?.dropped.ended ?? 0) + (st?.dropped.expired ?? 0) + (st?.dropped.failed ?? 0);
                return (
                  <tr key={n.id} data-testid="fa-node" data-node={n.id}>
                    <td>
                      <span className="mono">{n.id}</span> <span className="muted">{n.type}</span>
                    </td>
                    <td>{st?.entered ?? 0}</td>
                    <td>
                      {Object.entries(st?.exits ?? {})
                        .map(([k, v]) => `${k} ${v}`)
                        .join(', ')}
                    </td>
                    <td>
                      {stopped > 0
                        ? [`${st?.dropped.ended ?? 0} ended`, `${st?.dropped.expired ?? 0} expired`, `${st?.dropped.failed ?? 0} failed`].join(', ')
                        : '—'}
                    </td>
                    <td className="actions">
                      <a {...linkProps(stoppedHere(flowId, n.id))} data-testid="fa-stopped-here">
                        Conversations here
                      </a>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
