import { useEffect, useState } from 'react';
import { enc, get } from '../api';
import { linkProps } from '../router';
import type { VersionSummary } from '../types';

/** VersionsPanel is the flow's history: who published what when; open any version, or roll back to it. */
export function VersionsPanel({ flowId, current, published, onRollback }: { flowId: string; current?: number; published: number; onRollback: (n: number) => void }) {
  const [list, setList] = useState<VersionSummary[] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    get<{ versions: VersionSummary[] }>(`/flows/${enc(flowId)}/versions`)
      .then((r) => setList(r.versions))
      .catch((e) => setError((e as Error).message));
  }, [flowId, published]);
  if (error) return <p className="error">{error}</p>;
  if (!list) return <p>Loading…</p>;
  return (
    <div className="versions" data-testid="versions">
      <p className="hint">The draft is saved as you edit. Publishing makes a new, immutable version; conversations keep the version they started on.</p>
      {current !== undefined && (
        <p>
          <a {...linkProps(`/flows/${enc(flowId)}`)} data-testid="back-to-draft">
            ← Back to the draft
          </a>
        </p>
      )}
      {list.length === 0 && <p className="empty">Never published.</p>}
      <ul>
        {list.map((v) => (
          <li key={v.version} className={v.version === current ? 'current' : ''} data-testid={`version-${v.version}`}>
            <div>
              <strong>v{v.version}</strong>
              {v.version === published && <span className="pill live">live</span>}
              <div className="muted">
                {new Date(v.published_at).toLocaleString()}
                {v.published_by ? ` · ${v.published_by}` : ''}
              </div>
              {v.note && (
                <div className="version-note" data-testid={`version-note-${v.version}`}>
                  {v.note}
                </div>
              )}
            </div>
            <span className="spacer" />
            <a className="button small" {...linkProps(`/flows/${enc(flowId)}/versions/${v.version}`)} data-testid={`open-version-${v.version}`}>
              Open
            </a>
            {v.version !== published && (
              <button className="small" onClick={() => onRollback(v.version)} data-testid={`rollback-${v.version}`}>
                Roll back
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
