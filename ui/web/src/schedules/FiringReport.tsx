// One firing's report: audience, sent, skipped by reason, failed by
// reason, and — read from each send's message as statuses arrive — queued,
// accepted, delivered, read and failed by Meta's code. Per-contact
// outcomes on demand.
import { useCallback, useEffect, useState } from 'react';
import { getReport, listSends, type Report, type Send } from './api';
import { activeStatus, failLabels, formatZoned, metaCodes, pending, skipLabels, sortedEntries, sum } from './model';
import { FiringStatusBadge } from './badges';

const sendsPage = 100;

export function FiringReport(p: { schedule: string; firing: string; onClose: () => void }) {
  const [rep, setRep] = useState<Report | null>(null);
  const [error, setError] = useState('');
  const [sends, setSends] = useState<Send[] | null>(null);
  const [more, setMore] = useState(false);

  const load = useCallback(async () => {
    try {
      setRep(await getReport(p.schedule, p.firing));
      setError('');
    } catch (e) {
      setError((e as Error).message);
    }
  }, [p.schedule, p.firing]);
  useEffect(() => {
    void load();
  }, [load]);
  // Delivery moves as statuses arrive: poll while anything is still on its way.
  const moving = !rep || activeStatus(rep.firing.status) || rep.delivery.queued > 0 || rep.delivery.accepted > 0 || (rep.delivery.delivered > rep.delivery.read);
  useEffect(() => {
    if (!moving) return;
    const t = setInterval(() => void load(), rep && !activeStatus(rep.firing.status) && rep.delivery.queued === 0 && rep.delivery.accepted === 0 ? 10000 : 2000);
    return () => clearInterval(t);
  }, [moving, load, rep]);

  async function loadSends(after: string) {
    try {
      const page = await listSends(p.schedule, p.firing, after, sendsPage);
      setSends((s) => (after ? [...(s ?? []), ...page] : page));
      setMore(page.length === sendsPage);
    } catch (e) {
      setError((e as Error).message);
    }
  }

  if (!rep) {
    return <div className="sched-report">{error ? <p className="error">{error}</p> : <p>Loading the report…</p>}</div>;
  }
  const f = rep.firing;
  const c = f.counts;
  const d = rep.delivery;
  const skipped = sortedEntries(c.skipped);
  const failed = sortedEntries(c.failed);
  const dFailed = sortedEntries(d.failed);
  const todo = pending(c);
  return (
    <div className="sched-report" data-testid="firing-report" data-status={f.status}>
      <div className="toolbar">
        <h3>
          Report · {formatZoned(f.at, f.timezone)} <FiringStatusBadge f={f} />
        </h3>
        <span className="spacer" />
        <button className="small" onClick={p.onClose}>
          Close
        </button>
      </div>
      {f.reason && (
        <p className={f.status === 'failed' || f.status === 'missed' ? 'error' : 'warning'} data-testid="firing-reason">
          {f.reason}
        </p>
      )}
      {error && <p className="error">{error}</p>}
      <div className="stats">
        <Stat label="Audience" n={c.audience} id="report-audience" />
        <Stat label="Sent" n={c.sent} id="report-sent" cls="ok" />
        <Stat label="Skipped" n={sum(c.skipped)} id="report-skipped" />
        <Stat label="Failed" n={sum(c.failed)} id="report-failed" cls={sum(c.failed) ? 'error' : ''} />
        {todo > 0 && <Stat label={f.status === 'waiting' ? 'Waiting for the limit' : 'Not yet considered'} n={todo} id="report-pending" cls="warning" />}
      </div>
      <div className="report-cols">
        <div>
          <h4>Skipped by reason</h4>
          <Breakdown rows={skipped} labels={skipLabels} id="skip" empty="None skipped." />
          <h4>Failed by reason</h4>
          <Breakdown rows={failed} labels={failLabels} id="fail" empty="None failed." />
        </div>
        <div>
          <h4>Delivery of the {c.sent} sent</h4>
          <table className="breakdown" data-testid="delivery">
            <tbody>
              <Row label="queued in the outbox" n={d.queued} id="report-queued" />
              <Row label="accepted by Meta" n={d.accepted} id="report-accepted" />
              <Row label="delivered" n={d.delivered} id="report-delivered" />
              <Row label="… of which read" n={d.read} id="report-read" />
              {d.unknown > 0 && <Row label="outcome unknown" n={d.unknown} id="report-unknown" />}
              {d.no_message > 0 && <Row label="flow started, no message yet" n={d.no_message} id="report-no-message" />}
              {dFailed.map(([code, n]) => (
                <Row key={code} label={`failed ${code === 'blocked' ? '' : code + ' '}· ${metaCodes[code] ?? 'see Meta’s error codes'}`} n={n} id={`delivery-failed-${code}`} cls="error" />
              ))}
            </tbody>
          </table>
        </div>
      </div>
      {f.delivery ? (
        <p className="hint" data-testid="sends-pruned">
          Each contact’s outcome was kept for 30 days after the run; the figures above are as they stood then.
        </p>
      ) : sends === null ? (
        <button className="small" onClick={() => void loadSends('')} data-testid="show-sends">
          Show each contact’s outcome
        </button>
      ) : (
        <>
          <h4>Contacts</h4>
          {sends.length === 0 ? (
            <p className="empty">No contact considered yet.</p>
          ) : (
            <table className="list sends" data-testid="sends">
              <thead>
                <tr>
                  <th>Contact</th>
                  <th>Outcome</th>
                  <th>Reason</th>
                  <th>At</th>
                </tr>
              </thead>
              <tbody>
                {sends.map((x) => (
                  <tr key={x.contact} data-testid="send-row">
                    <td className="mono">{x.contact}</td>
                    <td>
                      <span className={`badge ${x.outcome === 'sent' ? 'published' : x.outcome === 'failed' ? 'failed' : ''}`}>{x.outcome}</span>
                    </td>
                    <td>
                      {x.reason ? (skipLabels[x.reason] ?? failLabels[x.reason] ?? x.reason) : ''}
                      {x.detail && <span className="muted"> · {x.detail}</span>}
                    </td>
                    <td className="muted">{formatZoned(x.at, f.timezone, { seconds: true, offset: false })}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {more && (
            <button className="small" onClick={() => void loadSends(sends[sends.length - 1].contact)} data-testid="more-sends">
              More
            </button>
          )}
        </>
      )}
    </div>
  );
}

function Stat(p: { label: string; n: number; id: string; cls?: string }) {
  return (
    <div className={`stat ${p.cls ?? ''}`}>
      <div className="stat-n" data-testid={p.id}>
        {p.n}
      </div>
      <div className="stat-label">{p.label}</div>
    </div>
  );
}

function Row(p: { label: string; n: number; id: string; cls?: string }) {
  return (
    <tr className={p.cls}>
      <td>{p.label}</td>
      <td className="num" data-testid={p.id}>
        {p.n}
      </td>
    </tr>
  );
}

function Breakdown(p: { rows: [string, number][]; labels: Record<string, string>; id: string; empty: string }) {
  if (!p.rows.length) return <p className="muted small">{p.empty}</p>;
  return (
    <table className="breakdown">
      <tbody>
        {p.rows.map(([k, n]) => (
          <tr key={k}>
            <td>
              {p.labels[k] ?? k} <span className="muted mono">{k}</span>
            </td>
            <td className="num" data-testid={`${p.id}-${k}`}>
              {n}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
