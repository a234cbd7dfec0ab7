// One contact as WhatsApp's rules see them now (GET /contacts/:key): the
// 24-hour window and its remaining time, consent with its history, whether
// they can be reached (131026) or are held back (131049), the latest sends
// the rules blocked with their reasons, and their conversations. An admin
// records here an opt-in or opt-out collected elsewhere.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError } from '../api';
import { getContact, recordConsent, type ContactDetail } from './api';
import { blockLabels, consentState, contactName, kindLabels, recordSources, sourceLabels, stageLabels } from './model';
import { duration, formatTime, relative } from '../templates/format';
import { linkProps } from '../router';
import { conversationPath } from '../conversations/model';

export function ContactDetailView(p: { contactKey: string; onChanged: () => void; onGone: () => void }) {
  const [d, setD] = useState<ContactDetail | null>(null);
  const [error, setError] = useState('');
  const [now, setNow] = useState(() => Date.now());
  const key = p.contactKey;

  const load = useCallback(async () => {
    try {
      setD(await getContact(key));
      setError('');
    } catch (e) {
      setError(e instanceof ApiError && e.status === 404 ? 'This contact is not known.' : (e as Error).message);
    }
    setNow(Date.now());
  }, [key]);
  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), 30_000);
    return () => clearInterval(t);
  }, [load]);
  // The window's countdown moves every second.
  const open = !!d?.window.open;
  useEffect(() => {
    if (!open) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [open]);

  if (error && !d)
    return (
      <div className="ct-detail">
        <p className="error" data-testid="contact-error">
          {error}
        </p>
        <button onClick={p.onGone}>Back</button>
      </div>
    );
  if (!d)
    return (
      <p className="muted" data-testid="contact-loading">
        Loading…
      </p>
    );

  const c = d.contact;
  const pol = d.policy;
  const cs = consentState(pol);
  const exp = d.window.expires_at ? Date.parse(d.window.expires_at) : 0;
  const left = d.window.open && exp ? Math.max(0, Math.floor((exp - now) / 1000)) : 0;
  return (
    <div className="ct-detail" data-testid="contact-detail">
      <div className="toolbar">
        <h2 data-testid="contact-detail-name">{contactName(c)}</h2>
        <span className={`badge tone-${cs.tone}`} data-testid="contact-detail-consent">
          {cs.label}
        </span>
      </div>
      {error && <p className="error">{error}</p>}
      <dl className="ct-facts">
        <dt>Key</dt>
        <dd className="mono">{c.key}</dd>
        {c.wa_id && (
          <>
            <dt>WhatsApp</dt>
            <dd className="mono">+{c.wa_id}</dd>
          </>
        )}
        {c.user_id && (
          <>
            <dt>User id</dt>
            <dd className="mono">{c.user_id}</dd>
          </>
        )}
        {c.language && (
          <>
            <dt>Language</dt>
            <dd>{c.language}</dd>
          </>
        )}
        <dt>Tags</dt>
        <dd data-testid="contact-detail-tags">
          {(c.tags ?? []).length ? (
            (c.tags ?? []).map((t) => (
              <span key={t} className="badge">
                {t}
              </span>
            ))
          ) : (
            <span className="muted">none</span>
          )}
        </dd>
        {c.fields && Object.keys(c.fields).length > 0 && (
          <>
            <dt>Fields</dt>
            <dd>
              {Object.entries(c.fields)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([k, v]) => (
                  <div key={k}>
                    <span className="mono">{k}</span>: {typeof v === 'string' ? v : JSON.stringify(v)}
                  </div>
                ))}
            </dd>
          </>
        )}
      </dl>

      <div className="ct-cards">
        <div className={`ct-card ${d.window.open ? 'ok' : ''}`} data-testid="contact-window-card" data-open={d.window.open}>
          <div className="ct-card-title">24-hour window</div>
          {d.window.open ? (
            <>
              <div className="ct-card-big" data-testid="window-remaining">
                {duration(left)} left
              </div>
              <div className="muted small">free-form messages until {formatTime(d.window.expires_at)}</div>
            </>
          ) : (
            <>
              <div className="ct-card-big muted">closed</div>
              <div className="muted small">
                {c.last_inbound_at ? `last wrote ${formatTime(c.last_inbound_at)} (${relative(c.last_inbound_at, now)})` : 'never wrote'} · only templates may be sent
              </div>
            </>
          )}
        </div>
        <div className={`ct-card ${pol.unreachable ? 'bad' : ''}`} data-testid="contact-reach">
          <div className="ct-card-title">Reachable</div>
          {pol.unreachable ? (
            <>
              <div className="ct-card-big error">unreachable</div>
              <div className="small">
                since {formatTime(pol.unreachable_at)}
                {pol.unreachable_reason ? `: ${pol.unreachable_reason}` : ''}. Nothing is sent until they write again.
              </div>
            </>
          ) : (
            <div className="ct-card-big">yes</div>
          )}
          {pol.held && (
            <div className="warning small" data-testid="contact-hold">
              Marketing held back by Meta (131049) until {formatTime(pol.hold_until)}.
            </div>
          )}
        </div>
      </div>

      <h3>Consent</h3>
      <p className="small">
        {pol.opted_out
          ? 'Opted out: no business-initiated message is sent.'
          : pol.opted_in
            ? `Opted in${c.opted_in_at ? ` since ${formatTime(c.opted_in_at)}` : ''}: templates may be sent outside the window${pol.marketing_opt_out ? ', except MARKETING ones (stopped in WhatsApp)' : ''}.`
            : 'No opt-in recorded: templates are not sent outside the window.'}
      </p>
      {pol.consent.length === 0 ? (
        <p className="empty" data-testid="consent-empty">
          No consent event recorded.
        </p>
      ) : (
        <table className="list ct-consent" data-testid="consent-history">
          <thead>
            <tr>
              <th>When</th>
              <th>Event</th>
              <th>Source</th>
              <th>By</th>
              <th>Purpose shown · evidence</th>
            </tr>
          </thead>
          <tbody>
            {pol.consent.map((ev, i) => (
              <tr key={i} data-testid="consent-row" data-kind={ev.kind}>
                <td className="nowrap">{formatTime(ev.at)}</td>
                <td>
                  <span className={`badge tone-${ev.kind === 'opt_in' || ev.kind === 'marketing_resume' ? 'ok' : 'bad'}`}>{kindLabels[ev.kind] ?? ev.kind}</span>
                </td>
                <td>{sourceLabels[ev.source] ?? ev.source}</td>
                <td>{ev.by}</td>
                <td>
                  {ev.purpose && <div>“{ev.purpose}”</div>}
                  {ev.detail && <div className="muted small">{ev.detail}</div>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ConsentForm
        contactKey={c.key}
        onRecorded={() => {
          void load();
          p.onChanged();
        }}
      />

      <h3>Blocked sends</h3>
      {pol.blocks.length === 0 ? (
        <p className="empty" data-testid="blocks-empty">
          Nothing was blocked.
        </p>
      ) : (
        <table className="list" data-testid="blocks">
          <thead>
            <tr>
              <th>When</th>
              <th>Why</th>
              <th>Where</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {[...pol.blocks].reverse().map((b, i) => (
              <tr key={i} data-testid="block-row" data-reason={b.reason}>
                <td className="nowrap">{formatTime(b.at)}</td>
                <td>
                  <span className="badge tone-bad">{blockLabels[b.reason] ?? b.reason}</span>
                </td>
                <td className="small">
                  {stageLabels[b.stage] ?? b.stage}
                  {b.template && <div className="mono">{b.template}</div>}
                  {b.node && <div className="muted">node {b.node}</div>}
                </td>
                <td className="small">{b.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h3>Conversations</h3>
      {d.conversations.length === 0 ? (
        <p className="empty" data-testid="conversations-empty">
          No conversation yet.
        </p>
      ) : (
        <table className="list" data-testid="contact-conversations">
          <thead>
            <tr>
              <th>Flow</th>
              <th>Status</th>
              <th>At node</th>
              <th>Started</th>
              <th>Last activity</th>
            </tr>
          </thead>
          <tbody>
            {d.conversations.map((cv) => (
              <tr key={cv.id} data-testid="conversation-row">
                <td>
                  <a {...linkProps(conversationPath(cv.id))} data-testid="conversation-open">
                    <span className="mono">{cv.flow}</span> <span className="muted">v{cv.version}</span>
                  </a>
                </td>
                <td>
                  <span className="badge" title={cv.reason || undefined}>
                    {cv.status}
                  </span>
                </td>
                <td className="mono">{cv.node}</td>
                <td className="nowrap">{formatTime(cv.started_at)}</td>
                <td className="nowrap">{relative(cv.last_activity_at, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function ConsentForm(p: { contactKey: string; onRecorded: () => void }) {
  const [kind, setKind] = useState('opt_in');
  const [source, setSource] = useState('web_form');
  const [purpose, setPurpose] = useState('');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const needsPurpose = kind === 'opt_in' && !purpose.trim();

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (needsPurpose) {
      setMsg({ ok: false, text: 'Write what the customer was shown when they opted in: it is the proof of consent.' });
      return;
    }
    setBusy(true);
    setMsg(null);
    try {
      await recordConsent(p.contactKey, { kind, source, purpose: purpose.trim() });
      setMsg({ ok: true, text: `Recorded: ${kindLabels[kind] ?? kind}.` });
      setPurpose('');
      p.onRecorded();
    } catch (err) {
      setMsg({ ok: false, text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="ct-consent-form" onSubmit={submit} data-testid="consent-form" noValidate>
      <div className="ct-card-title">Record consent collected elsewhere</div>
      <div className="row">
        <select value={kind} onChange={(e) => setKind(e.target.value)} data-testid="consent-kind" aria-label="Event">
          <option value="opt_in">Opt-in</option>
          <option value="opt_out">Opt-out</option>
          <option value="marketing_stop">Stop marketing</option>
          <option value="marketing_resume">Resume marketing</option>
        </select>
        <select value={source} onChange={(e) => setSource(e.target.value)} data-testid="consent-source" aria-label="Source">
          {recordSources.map((s) => (
            <option key={s} value={s}>
              {sourceLabels[s]}
            </option>
          ))}
        </select>
      </div>
      <textarea rows={2} maxLength={2000} value={purpose} onChange={(e) => setPurpose(e.target.value)} placeholder={kind === 'opt_in' ? 'What the customer was shown: "Order updates from Acme on WhatsApp"' : 'Note (optional)'} data-testid="consent-purpose" />
      <div className="row">
        <button className={kind === 'opt_in' || kind === 'marketing_resume' ? 'primary' : 'danger'} disabled={busy} data-testid="consent-submit">
          {busy ? 'Recording…' : 'Record'}
        </button>
        {msg && (
          <span className={msg.ok ? 'ok' : 'error'} role={msg.ok ? 'status' : 'alert'} data-testid="consent-message">
            {msg.text}
          </span>
        )}
      </div>
    </form>
  );
}
