// Message templates (issue 4 §1, §6): the registry's templates with their
// status, quality and parameter counts; one template's buttons and status
// history; the form to create one (Meta reviews it: PENDING, then APPROVED
// or REJECTED, and the page follows while it is pending). Above them, the
// business numbers' messaging limit and usage. Admins and analysts.
// Template names and texts are rendered as text, never as HTML.
import { useCallback, useEffect, useState } from 'react';
import { ApiError } from '../api';
import { getTemplate, listTemplates, type Template, type TemplateDetail } from './api';
import { formatTime, relative } from './format';
import { describeChange, qualityTone, statusTone } from './model';
import { NumbersPanel } from './NumbersPanel';
import { TemplateForm } from './TemplateForm';
import './templates.css';

/** How often a pending template is re-read: Meta's verdict arrives by webhook. */
const pendingPoll = 1500;

type Sel = { name: string; language: string } | null;

function initialSel(): Sel {
  const q = new URLSearchParams(location.search);
  const name = q.get('name');
  return name ? { name, language: q.get('language') ?? '' } : null;
}

function remember(s: Sel) {
  const url = s ? `/templates?name=${encodeURIComponent(s.name)}&language=${encodeURIComponent(s.language)}` : '/templates';
  if (location.pathname + location.search !== url) history.replaceState(null, '', url);
}

const same = (a: { name: string; language: string }, b: Sel) => !!b && a.name === b.name && a.language === b.language;

export function TemplatesPage() {
  const [list, setList] = useState<Template[] | null>(null);
  const [synced, setSynced] = useState('');
  const [error, setError] = useState('');
  const [filter, setFilter] = useState('');
  const [sel, setSel] = useState<Sel>(initialSel);
  const [creating, setCreating] = useState(false);

  const load = useCallback(async () => {
    try {
      const r = await listTemplates();
      setList(r.templates);
      setSynced(r.syncedAt);
      setError('');
    } catch (e) {
      setError(e instanceof ApiError && e.status === 503 ? 'No template registry is configured on this server.' : (e as Error).message);
      setList((l) => l ?? []);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  // Statuses move by themselves (Meta's webhooks): re-read now and then while any is pending.
  const anyPending = (list ?? []).some((t) => t.status === 'PENDING');
  useEffect(() => {
    const t = setInterval(() => void load(), anyPending ? 10_000 : 60_000);
    return () => clearInterval(t);
  }, [anyPending, load]);

  function select(s: Sel) {
    setSel(s);
    setCreating(false);
    remember(s);
  }

  const updated = useCallback((d: TemplateDetail) => {
    setList((l) => {
      const rest = (l ?? []).filter((x) => !(x.name === d.name && x.language === d.language));
      return [...rest, d].sort((a, b) => a.name.localeCompare(b.name) || a.language.localeCompare(b.language));
    });
  }, []);

  const q = filter.trim().toLowerCase();
  const shown = (list ?? []).filter((t) => !q || t.name.toLowerCase().includes(q) || t.status.toLowerCase().includes(q) || t.category.toLowerCase().includes(q));

  return (
    <div className="templates-page" data-testid="templates">
      <div className="toolbar">
        <h1>Templates</h1>
        {synced && <span className="muted small" data-testid="templates-synced" title={formatTime(synced)}>synced with Meta {relative(synced, Date.now())}</span>}
        <span className="spacer" />
        <input className="tpl-filter" placeholder="Filter by name, status, category" value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="templates-filter" />
        <button className="primary" onClick={() => (setCreating(true), setSel(null), remember(null))} data-testid="new-template">
          New template
        </button>
      </div>
      <NumbersPanel />
      <div className="tpl-layout">
        <section className="tpl-list">
          {error && (
            <p className="error" data-testid="templates-error">
              {error}
            </p>
          )}
          {list === null ? (
            <p className="muted" data-testid="templates-loading">
              Loading…
            </p>
          ) : list.length === 0 ? (
            !error && (
              <p className="empty" data-testid="templates-empty">
                No templates yet. Templates are the only messages a business may send outside a customer's 24-hour window; create one and Meta reviews it.
              </p>
            )
          ) : shown.length === 0 ? (
            <p className="empty">No template matches “{filter}”.</p>
          ) : (
            <table className="list tpl-table" data-testid="template-list">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Language</th>
                  <th>Category</th>
                  <th>Status</th>
                  <th>Quality</th>
                  <th className="num" title="header parameters · body parameters · quick replies">Parameters</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((t) => (
                  <tr
                    key={`${t.name}/${t.language}`}
                    className={`tpl-row ${same(t, sel) ? 'active' : ''}`}
                    onClick={() => select({ name: t.name, language: t.language })}
                    data-testid="template-row"
                    data-name={t.name}
                    data-status={t.status}
                  >
                    <td className="tpl-name">
                      <button className="link" data-testid="template-name">
                        {t.name}
                      </button>
                      {t.incomplete && <span className="badge" title="Known from a webhook only: not sendable until the next sync">incomplete</span>}
                    </td>
                    <td className="mono">{t.language}</td>
                    <td>{t.category || <span className="muted">—</span>}</td>
                    <td>
                      <StatusBadge status={t.status} reason={t.rejected_reason} />
                    </td>
                    <td>
                      <QualityBadge q={t.quality} />
                    </td>
                    <td className="num" data-testid="template-params">
                      {t.header_params} · {t.body_params} · {t.quick_replies}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {list && list.length > 0 && <p className="hint">Parameters: header · body · quick replies.</p>}
        </section>
        <section className="tpl-main">
          {creating ? (
            <TemplateForm
              onCancel={() => setCreating(false)}
              onCreated={(d) => {
                updated(d);
                select({ name: d.name, language: d.language });
              }}
            />
          ) : sel ? (
            <TemplateView key={`${sel.name}/${sel.language}`} sel={sel} onLoaded={updated} onGone={() => select(null)} />
          ) : (
            <div className="empty tpl-placeholder">{list?.length ? 'Choose a template to see its buttons and status history.' : ''}</div>
          )}
        </section>
      </div>
    </div>
  );
}

export function StatusBadge({ status, reason }: { status: string; reason?: string }) {
  return (
    <span className={`badge tone-${statusTone(status)}`} data-testid="template-status" title={reason || undefined}>
      {status || 'unknown'}
      {status === 'REJECTED' && reason ? ` · ${reason}` : ''}
    </span>
  );
}

function QualityBadge({ q }: { q?: string }) {
  if (!q) return <span className="muted">—</span>;
  return (
    <span className={`badge tone-${qualityTone(q)}`} data-testid="template-quality">
      {q.toLowerCase()}
    </span>
  );
}

function TemplateView(p: { sel: { name: string; language: string }; onLoaded: (d: TemplateDetail) => void; onGone: () => void }) {
  const [t, setT] = useState<TemplateDetail | null>(null);
  const [error, setError] = useState('');
  const { name, language } = p.sel;
  const { onLoaded } = p;

  const load = useCallback(async () => {
    try {
      const d = await getTemplate(name, language);
      setT(d);
      setError('');
      onLoaded(d);
    } catch (e) {
      setError(e instanceof ApiError && e.status === 404 ? `${name} (${language}) is not in the registry.` : (e as Error).message);
    }
  }, [name, language, onLoaded]);
  useEffect(() => {
    void load();
  }, [load]);
  // While Meta reviews it, follow it.
  const pending = t?.status === 'PENDING';
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(() => void load(), pendingPoll);
    return () => clearInterval(timer);
  }, [pending, load]);

  if (error && !t)
    return (
      <div className="tpl-detail">
        <p className="error" data-testid="template-error">
          {error}
        </p>
        <button onClick={p.onGone}>Back</button>
      </div>
    );
  if (!t)
    return (
      <p className="muted" data-testid="template-loading">
        Loading…
      </p>
    );
  return (
    <div className="tpl-detail" data-testid="template-detail" data-status={t.status}>
      <div className="toolbar">
        <h2 data-testid="template-detail-name">{t.name}</h2>
        <span className="mono muted">{t.language}</span>
        <StatusBadge status={t.status} reason={t.rejected_reason} />
      </div>
      {error && <p className="error">{error}</p>}
      {pending && (
        <p className="notice-box" data-testid="pending-note">
          <span className="spinner" aria-hidden="true" /> Meta is reviewing this template. This page follows it: the status changes here as soon as Meta decides.
        </p>
      )}
      {t.status === 'REJECTED' && (
        <p className="error" data-testid="rejected-note">
          Rejected{t.rejected_reason ? ` (${t.rejected_reason})` : ''}. {t.history.at(-1)?.detail ?? ''} Fix it and create it again, under the same name once Meta allows, or another.
        </p>
      )}
      {t.status === 'APPROVED' && (
        <p className="ok" data-testid="approved-note">
          Approved: flows and schedules may send it.
        </p>
      )}
      <dl className="tpl-facts">
        <dt>Category</dt>
        <dd>{t.category || '—'}</dd>
        <dt>Quality</dt>
        <dd>
          <QualityBadge q={t.quality} />
        </dd>
        <dt>Parameters</dt>
        <dd data-testid="template-detail-params">
          {t.header_params} in the header, {t.body_params} in the body{t.parameter_format ? ` (${t.parameter_format.toLowerCase()})` : ''}
        </dd>
        {t.texts?.header && (
          <>
            <dt>Header</dt>
            <dd data-testid="template-header">{t.texts.header}</dd>
          </>
        )}
        {t.texts?.body && (
          <>
            <dt>Body</dt>
            <dd className="tpl-body" data-testid="template-body">
              {t.texts.body}
            </dd>
          </>
        )}
        {t.texts?.footer && (
          <>
            <dt>Footer</dt>
            <dd className="muted" data-testid="template-footer">
              {t.texts.footer}
            </dd>
          </>
        )}
        <dt>Buttons</dt>
        <dd data-testid="template-buttons">
          {t.buttons.length === 0 ? (
            <span className="muted">none</span>
          ) : (
            t.buttons.map((b, i) => (
              <span key={i} className="badge">
                {b.type === 'QUICK_REPLY' ? '↩' : b.type === 'URL' ? '↗' : b.type === 'PHONE_NUMBER' ? '✆' : b.type} {b.text}
              </span>
            ))
          )}
        </dd>
        {t.id && (
          <>
            <dt>Meta id</dt>
            <dd className="mono">{t.id}</dd>
          </>
        )}
        {t.updated_at && (
          <>
            <dt>Changed</dt>
            <dd className="muted">{formatTime(t.updated_at)}</dd>
          </>
        )}
      </dl>
      <h3>Status history</h3>
      {t.history.length === 0 ? (
        <p className="empty">No change recorded.</p>
      ) : (
        <table className="list tpl-history" data-testid="template-history">
          <thead>
            <tr>
              <th>When</th>
              <th>Change</th>
              <th>From</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {t.history.map((c, i) => (
              <tr key={i} data-testid="history-row" data-to={c.to}>
                <td className="nowrap">{formatTime(c.at)}</td>
                <td>
                  {c.kind === 'status' ? (
                    <>
                      {c.from && (
                        <>
                          <StatusBadge status={c.from} /> →{' '}
                        </>
                      )}
                      <StatusBadge status={c.to} reason={c.reason} />
                    </>
                  ) : (
                    describeChange(c)
                  )}
                </td>
                <td className="muted nowrap">{c.source}</td>
                <td>{c.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
