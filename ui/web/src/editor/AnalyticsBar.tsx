import { useEffect, useState } from 'react';
import { enc, get } from '../api';
import { linkProps } from '../router';
import type { Analytics, NodeStats } from '../types';

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** AnalyticsBar toggles the per-node counts on the canvas, over a date range. */
export function AnalyticsBar({ flowId, onStats }: { flowId: string; onStats: (s: Record<string, NodeStats> | undefined) => void }) {
  const [on, setOn] = useState(false);
  const [from, setFrom] = useState(() => day(new Date(Date.now() - 6 * 86_400_000)));
  const [to, setTo] = useState(() => day(new Date()));
  const [error, setError] = useState('');
  useEffect(() => {
    if (!on) {
      onStats(undefined);
      return;
    }
    let live = true;
    get<Analytics>(`/flows/${enc(flowId)}/analytics?from=${from}&to=${to}`)
      .then((a) => {
        if (!live) return;
        setError('');
        onStats(a.nodes ?? {});
      })
      .catch((e) => live && setError((e as Error).message));
    return () => {
      live = false;
    };
  }, [on, from, to, flowId, onStats]);
  return (
    <span className="analytics-bar">
      <label className="check">
        <input type="checkbox" checked={on} onChange={(e) => setOn(e.target.checked)} data-testid="analytics-toggle" /> Analytics
      </label>
      {on && (
        <>
          <input type="date" value={from} max={to} onChange={(e) => setFrom(e.target.value)} data-testid="analytics-from" />
          <input type="date" value={to} min={from} onChange={(e) => setTo(e.target.value)} data-testid="analytics-to" />
          {error && <span className="error" title={error}>unavailable</span>}
          <a {...linkProps(`/flows/${enc(flowId)}/analytics`)} data-testid="analytics-page">
            Funnel, trend, results…
          </a>
        </>
      )}
    </span>
  );
}
