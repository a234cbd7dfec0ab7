// The business numbers (GET /numbers, issue 4 §6): the messaging limit
// enforced and where it comes from, the unique customers reached outside
// their window in the moving 24 h, when the next place frees, Meta's tier
// and quality. Admins and analysts; refreshed every 30 s.
import { useCallback, useEffect, useState } from 'react';
import { ApiError } from '../api';
import { listNumbers, type NumberView } from './api';
import { formatTime, relative } from './format';

export function NumbersPanel() {
  const [numbers, setNumbers] = useState<NumberView[] | null>(null);
  const [error, setError] = useState('');
  const [now, setNow] = useState(() => Date.now());

  const load = useCallback(async () => {
    try {
      setNumbers(await listNumbers());
      setError('');
    } catch (e) {
      setError(e instanceof ApiError && e.status === 403 ? 'Your role may not see the numbers.' : (e as Error).message);
      setNumbers((n) => n ?? []);
    }
    setNow(Date.now());
  }, []);
  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), 30_000);
    return () => clearInterval(t);
  }, [load]);

  return (
    <section className="numbers-panel" data-testid="numbers-panel">
      <div className="toolbar">
        <h3>Numbers</h3>
        <span className="hint">Messaging limit: unique customers reached outside their 24-hour window, in a moving 24 h.</span>
        <span className="spacer" />
        <button className="small" onClick={() => void load()} data-testid="numbers-refresh">
          Refresh
        </button>
      </div>
      {error && (
        <p className="error" data-testid="numbers-error">
          {error}
        </p>
      )}
      {numbers === null ? (
        <p className="muted" data-testid="numbers-loading">
          Loading…
        </p>
      ) : numbers.length === 0 ? (
        !error && (
          <p className="empty" data-testid="numbers-empty">
            No business number is configured.
          </p>
        )
      ) : (
        <div className="numbers">
          {numbers.map((n) => (
            <NumberCard key={n.key} n={n} now={now} />
          ))}
        </div>
      )}
    </section>
  );
}

function NumberCard({ n, now }: { n: NumberView; now: number }) {
  const pct = n.limit > 0 ? Math.min(100, Math.round((n.usage / n.limit) * 100)) : 0;
  const full = n.limit > 0 && n.usage >= n.limit;
  const restricted = n.restricted_until && Date.parse(n.restricted_until) > now;
  return (
    <div className={`number-card ${full ? 'full' : ''}`} data-testid="number-card" data-key={n.key}>
      <div className="number-head">
        <strong data-testid="number-display">{n.display_phone_number || n.phone_number_id || n.key}</strong>
        {n.phone_number_id && n.display_phone_number && <span className="muted small mono">{n.phone_number_id}</span>}
        <span className="spacer" />
        <span className={`badge ${n.flagged ? 'tone-bad' : n.quality_event ? 'tone-ok' : ''}`} data-testid="number-quality" title={n.quality_at ? `since ${formatTime(n.quality_at)}` : undefined}>
          quality {n.flagged ? 'flagged' : n.quality_event ? n.quality_event.toLowerCase() : 'not reported'}
        </span>
      </div>
      <div className="number-usage">
        <span className="stat-n" data-testid="number-usage">
          {n.usage}
        </span>
        <span className="muted">
          {' '}
          of <span data-testid="number-limit">{n.limit > 0 ? n.limit.toLocaleString('en-US') : 'unlimited'}</span> in the last 24 h
        </span>
      </div>
      {n.limit > 0 && (
        <div className="meter" role="meter" aria-valuemin={0} aria-valuemax={n.limit} aria-valuenow={n.usage} aria-label="Messaging limit used">
          <div className={`meter-fill ${pct >= 90 ? 'bad' : pct >= 70 ? 'warn' : ''}`} style={{ width: `${pct}%` }} />
        </div>
      )}
      <dl className="number-facts">
        <dt>Limit</dt>
        <dd data-testid="number-limit-source">
          {n.limit_source === 'meta' ? 'from Meta' : n.limit_source === 'configured' ? 'configured' : n.limit_source || '—'}
          {n.pinned ? ' (pinned: Meta’s tier changes do not move it)' : ''}
        </dd>
        <dt>Tier</dt>
        <dd data-testid="number-tier">
          {n.tier ? (
            <>
              {n.tier}
              {n.tier_at && <span className="muted"> · {formatTime(n.tier_at)}</span>}
            </>
          ) : (
            <span className="muted">not announced</span>
          )}
        </dd>
        <dt>Next place</dt>
        <dd data-testid="number-next-free">
          {n.next_free_at ? (
            <>
              frees {formatTime(n.next_free_at)} <span className="muted">({relative(n.next_free_at, now)})</span>
            </>
          ) : (
            <span className="muted">{n.usage ? '—' : 'nobody reached yet'}</span>
          )}
        </dd>
        {(restricted || (n.restrictions?.length ?? 0) > 0) && (
          <>
            <dt>Restricted</dt>
            <dd className="error" data-testid="number-restricted">
              {restricted ? `business-initiated messaging until ${formatTime(n.restricted_until)}` : ''}
              {(n.restrictions ?? []).map((r, i) => (
                <div key={i}>
                  {r.restriction_type}
                  {r.expiration ? ` until ${formatTime(r.expiration)}` : ''}
                </div>
              ))}
            </dd>
          </>
        )}
      </dl>
    </div>
  );
}
