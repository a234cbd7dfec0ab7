// Scheduled notifications (issue 7): the list of schedules, one schedule's
// next fire times and history, each firing's report, and the form to
// create or edit one. Admins and analysts. Every name, expression and
// contact key is rendered as text.
import { useCallback, useEffect, useLayoutEffect, useState } from 'react';
import { ApiError } from '../api';
import { countAudience, deleteSchedule, listFirings, listSchedules, runNow, setPaused, type AudienceCount, type Firing, type Schedule } from './api';
import { activeStatus, describeCron, formatZoned, pending, sum } from './model';
import { relative } from '../templates/format';
import { ScheduleForm } from './ScheduleForm';
import { FiringReport } from './FiringReport';
import { FiringStatusBadge } from './badges';
import './schedules.css';
import { display } from '../templates/fill';

type Mode = { kind: 'view' } | { kind: 'new' } | { kind: 'edit'; schedule: Schedule };

/** initialId is the ?id= of a link to one schedule. */
function initialId(): string {
  return new URLSearchParams(location.search).get('id') ?? '';
}

function remember(id: string) {
  const url = id ? `/schedules?id=${encodeURIComponent(id)}` : '/schedules';
  if (location.pathname + location.search !== url) history.replaceState(null, '', url);
}

export function SchedulesPage() {
  const [list, setList] = useState<Schedule[] | null>(null);
  const [error, setError] = useState('');
  const [selected, setSelected] = useState(initialId);
  const [mode, setMode] = useState<Mode>({ kind: 'view' });

  const load = useCallback(async () => {
    try {
      setList(await listSchedules());
      setError('');
    } catch (e) {
      setError(e instanceof ApiError && e.status === 503 ? 'Schedules are not available on this server.' : (e as Error).message);
      setList((l) => l ?? []);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  function select(id: string) {
    setSelected(id);
    setMode({ kind: 'view' });
    remember(id);
  }

  const current = list?.find((s) => s.id === selected) ?? null;
  return (
    <div className="schedules-page" data-testid="schedules">
      <aside className="sched-list">
        <div className="toolbar">
          <h1>Schedules</h1>
          <span className="spacer" />
          <button className="primary" onClick={() => setMode({ kind: 'new' })} data-testid="new-schedule">
            New schedule
          </button>
        </div>
        {error && (
          <p className="error" data-testid="schedules-error">
            {error}
          </p>
        )}
        {list === null ? (
          <p>Loading…</p>
        ) : list.length === 0 ? (
          <p className="empty">No schedules yet. A schedule starts a flow, or sends a template, to an audience of contacts at the times a cron expression gives.</p>
        ) : (
          <ul data-testid="schedule-list">
            {list.map((s) => (
              <li key={s.id}>
                <button className={`sched-item ${s.id === selected ? 'active' : ''}`} onClick={() => select(s.id)} data-testid="schedule-item" data-name={s.name}>
                  <span className="sched-item-head">
                    <strong>{s.name}</strong>
                    <StateBadge paused={s.paused} />
                  </span>
                  <span className="muted">{describeCron(s.cron) || s.cron} · {s.timezone}</span>
                  <span className="muted small">{s.paused ? 'paused: nothing fires' : s.next_fires?.[0] ? `next ${formatZoned(s.next_fires[0], s.timezone)}` : 'no fire time ahead'}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </aside>
      <section className="sched-main">
        {mode.kind === 'new' || mode.kind === 'edit' ? (
          <ScheduleForm
            key={mode.kind === 'edit' ? mode.schedule.id : 'new'}
            schedule={mode.kind === 'edit' ? mode.schedule : null}
            onCancel={() => setMode({ kind: 'view' })}
            onSaved={(s) => {
              setList((l) => [...(l ?? []).filter((x) => x.id !== s.id), s].sort((a, b) => a.name.localeCompare(b.name)));
              select(s.id);
              void load();
            }}
          />
        ) : current ? (
          <ScheduleDetail
            key={current.id}
            schedule={current}
            onChanged={(s) => setList((l) => (l ?? []).map((x) => (x.id === s.id ? s : x)))}
            onEdit={() => setMode({ kind: 'edit', schedule: current })}
            onDeleted={() => {
              select('');
              void load();
            }}
          />
        ) : (
          <div className="empty sched-placeholder">{list?.length ? 'Choose a schedule to see its next fire times and history.' : ''}</div>
        )}
      </section>
    </div>
  );
}

function StateBadge({ paused }: { paused: boolean }) {
  return (
    <span className={`badge ${paused ? 'changed' : 'published'}`} data-testid="schedule-state">
      {paused ? 'paused' : 'active'}
    </span>
  );
}

function ScheduleDetail(p: { schedule: Schedule; onChanged: (s: Schedule) => void; onEdit: () => void; onDeleted: () => void }) {
  const s = p.schedule;
  const [firings, setFirings] = useState<Firing[] | null>(null);
  const [open, setOpen] = useState<string>('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  // Run now asks first, saying how many contacts it reaches now.
  const [confirmRun, setConfirmRun] = useState<AudienceCount | null>(null);
  // A layout effect: Escape closes the question from the moment it shows,
  // not a frame later, when a passive effect would listen.
  useLayoutEffect(() => {
    if (!confirmRun) return;
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setConfirmRun(null);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [confirmRun]);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [now, setNow] = useState(() => Date.now());

  const loadFirings = useCallback(async () => {
    try {
      setFirings(await listFirings(s.id));
    } catch (e) {
      setError((e as Error).message);
    }
  }, [s.id]);
  useEffect(() => {
    void loadFirings();
  }, [loadFirings]);
  // History moves by itself (scheduled firings, fan-out): poll, faster while a firing is under way.
  const live = (firings ?? []).some((f) => activeStatus(f.status));
  useEffect(() => {
    const t = setInterval(() => {
      setNow(Date.now());
      void loadFirings();
    }, live ? 2000 : 10000);
    return () => clearInterval(t);
  }, [live, loadFirings]);

  async function act(fn: () => Promise<void>) {
    setBusy(true);
    setError('');
    try {
      await fn();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  const a = s.action;
  return (
    <div className="sched-detail" data-testid="schedule-detail">
      <div className="toolbar">
        <h2 data-testid="schedule-name">{s.name}</h2>
        <StateBadge paused={s.paused} />
        <span className="spacer" />
        <button onClick={p.onEdit} data-testid="sched-edit">
          Edit
        </button>
        <button disabled={busy} onClick={() => act(async () => p.onChanged(await setPaused(s.id, !s.paused)))} data-testid="sched-pause-toggle">
          {s.paused ? 'Resume' : 'Pause'}
        </button>
        <button
          className="primary"
          disabled={busy || s.paused || !!confirmRun}
          title={s.paused ? 'Resume the schedule to run it' : 'Fire once now, outside the cron, to the audience as it is now'}
          onClick={() => act(async () => setConfirmRun(await countAudience(s.audience ?? '')))}
          data-testid="sched-run"
        >
          Run now
        </button>
        {confirmRun && (
          <div className="run-confirm" role="alertdialog" aria-label="Run now?" data-testid="sched-run-confirm-box">
            <span data-testid="sched-run-audience">{runSummary(confirmRun)}</span>
            <button
              className="primary"
              disabled={busy}
              onClick={() =>
                act(async () => {
                  setConfirmRun(null);
                  const f = await runNow(s.id);
                  setOpen(f.id);
                  await loadFirings();
                })
              }
              data-testid="sched-run-confirm"
            >
              Send to {reachable(confirmRun)} now
            </button>
            <button onClick={() => setConfirmRun(null)} data-testid="sched-run-cancel">
              Cancel
            </button>
          </div>
        )}
        {confirmDelete ? (
          <>
            <button className="danger" disabled={busy} onClick={() => act(async () => (await deleteSchedule(s.id), p.onDeleted()))} data-testid="sched-delete-confirm">
              Delete for good
            </button>
            <button onClick={() => setConfirmDelete(false)}>Keep</button>
          </>
        ) : (
          <button className="danger" onClick={() => setConfirmDelete(true)} data-testid="sched-delete">
            Delete
          </button>
        )}
      </div>
      {confirmDelete && <p className="warning">Deleting cancels its unfinished firings; their history goes with it.</p>}
      {error && (
        <p className="error" data-testid="detail-error">
          {error}
        </p>
      )}
      <dl className="sched-facts">
        <dt>When</dt>
        <dd>
          {describeCron(s.cron) && <span>{describeCron(s.cron)} · </span>}
          <code>{s.cron}</code> in <strong>{s.timezone}</strong>
        </dd>
        <dt>What</dt>
        <dd data-testid="schedule-action">
          {a.kind === 'start_flow' ? (
            <>
              start flow <code>{a.flow}</code>
            </>
          ) : a.template ? (
            <>
              send template <code>{a.template.name}</code> ({a.template.language})
              {a.template.body?.length ? (
                <span className="muted">
                  {' '}
                  · body {a.template.body.map((x, i) => (
                    <code key={i} className="param">
                      {display(x)}
                    </code>
                  ))}
                </span>
              ) : null}
            </>
          ) : (
            String(a.kind)
          )}
        </dd>
        <dt>To whom</dt>
        <dd>{s.audience ? <code data-testid="schedule-audience">{s.audience}</code> : 'every contact'} <span className="muted">· opted in and not opted out only; busy contacts skipped</span></dd>
        <dt>Changed</dt>
        <dd className="muted">
          {formatZoned(s.updated_at, s.timezone)} {s.updated_by ? `by ${s.updated_by}` : ''}
        </dd>
      </dl>

      <h3>Next fire times <span className="muted">in {s.timezone}</span></h3>
      {s.paused ? (
        <p className="muted" data-testid="next-fires-paused">
          Paused: nothing fires, and the paused period is not caught up on resume.
        </p>
      ) : (
        <ol className="fires" data-testid="next-fires">
          {(s.next_fires ?? []).map((t) => (
            <li key={t} data-testid="next-fire">
              {formatZoned(t, s.timezone)} <span className="muted">{relative(t, now)}</span>
            </li>
          ))}
        </ol>
      )}

      <h3>History</h3>
      {firings === null ? (
        <p>Loading…</p>
      ) : firings.length === 0 ? (
        <p className="empty" data-testid="no-firings">
          No firing yet.
        </p>
      ) : (
        <table className="list firings" data-testid="firings">
          <thead>
            <tr>
              <th>Fire time</th>
              <th>Status</th>
              <th className="num">Audience</th>
              <th className="num">Sent</th>
              <th className="num">Skipped</th>
              <th className="num">Failed</th>
              <th className="num">To do</th>
            </tr>
          </thead>
          <tbody>
            {firings.map((f) => (
              <tr key={f.id} className={`firing-row ${f.id === open ? 'active' : ''}`} onClick={() => setOpen(f.id === open ? '' : f.id)} data-testid="firing-row" data-status={f.status}>
                <td>
                  {formatZoned(f.at, f.timezone || s.timezone)}
                  {f.manual && <span className="badge">run now{f.by ? ` by ${f.by}` : ''}</span>}
                </td>
                <td>
                  <FiringStatusBadge f={f} />
                </td>
                {f.status === 'missed' || f.status === 'failed' ? (
                  <td colSpan={5} className="muted">
                    {f.reason}
                  </td>
                ) : (
                  <>
                    <td className="num">{f.counts.audience}</td>
                    <td className="num">{f.counts.sent}</td>
                    <td className="num">{sum(f.counts.skipped)}</td>
                    <td className="num">{sum(f.counts.failed)}</td>
                    <td className="num">{pending(f.counts) || ''}</td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open && <FiringReport key={open} schedule={s.id} firing={open} onClose={() => setOpen('')} />}
    </div>
  );
}

/** reachable is how many of an audience a run reaches: those selected, less those consent rules skip. */
function reachable(c: AudienceCount): string {
  const n = Math.max(0, c.matching - c.no_consent - c.opted_out - c.unreachable);
  return n === 1 ? '1 contact' : `${n} contacts`;
}

/** runSummary says what Run now is about to do, before it does. */
function runSummary(c: AudienceCount): string {
  const skipped = c.no_consent + c.opted_out + c.unreachable;
  return (
    `The audience selects ${c.matching} of ${c.total} contacts now` +
    (skipped > 0 ? `; ${skipped} will be skipped (${c.no_consent} without opt-in, ${c.opted_out} opted out, ${c.unreachable} unreachable)` : '') +
    `. Busy contacts are skipped too.`
  );
}
