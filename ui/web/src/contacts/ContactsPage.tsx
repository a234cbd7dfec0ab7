// Contacts (issue 4 §2, §6; issue 7 §5): the paged list with consent,
// window and tags, filtered by tag or consent; one contact's policy state
// (window and its remaining time, consent history, blocks with their
// reasons, unreachable / hold, conversations) with a form to record an
// opt-in or opt-out; and the CSV import, checked by a dry run first.
// Admins only (GET /contacts is an admin's). Names, tags and every text a
// customer or a file gave are rendered as text, never as HTML.
import { useCallback, useEffect, useState } from 'react';
import { ApiError } from '../api';
import { listContacts, type ContactItem } from './api';
import { consentState, contactName, windowFromInbound } from './model';
import { duration, formatTime, relative } from '../templates/format';
import { ContactDetailView } from './ContactDetail';
import { ImportPanel } from './ImportPanel';
import './contacts.css';

const pageSize = 50;

function initialKey(): string {
  return new URLSearchParams(location.search).get('key') ?? '';
}

function remember(key: string) {
  const url = key ? `/contacts?key=${encodeURIComponent(key)}` : '/contacts';
  if (location.pathname + location.search !== url) history.replaceState(null, '', url);
}

export function ContactsPage() {
  const [tag, setTag] = useState('');
  const [optedIn, setOptedIn] = useState<'' | 'true' | 'false'>('');
  // cursors[i] is the `after` of page i; the first page has none.
  const [cursors, setCursors] = useState<string[]>(['']);
  const [page, setPage] = useState<{ contacts: ContactItem[]; next: string } | null>(null);
  const [error, setError] = useState('');
  const [selected, setSelected] = useState(initialKey);
  const [importing, setImporting] = useState(false);
  const [now, setNow] = useState(() => Date.now());
  const after = cursors[cursors.length - 1];

  const load = useCallback(async () => {
    try {
      setPage(await listContacts({ after, limit: pageSize, tag: tag.trim(), optedIn }));
      setError('');
    } catch (e) {
      setError(e instanceof ApiError && e.status === 403 ? 'Only admins may list contacts.' : (e as Error).message);
      setPage((p) => p ?? { contacts: [], next: '' });
    }
    setNow(Date.now());
  }, [after, tag, optedIn]);
  useEffect(() => {
    const t = setTimeout(() => void load(), 200); // typing a tag filters after a pause
    return () => clearTimeout(t);
  }, [load]);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(t);
  }, []);

  function select(key: string) {
    setSelected(key);
    setImporting(false);
    remember(key);
  }
  function refilter(f: () => void) {
    f();
    setCursors(['']);
  }

  const filtered = !!tag.trim() || !!optedIn;
  return (
    <div className="contacts-page" data-testid="contacts">
      <div className="toolbar">
        <h1>Contacts</h1>
        <span className="spacer" />
        <input className="ct-filter" placeholder="Tag" value={tag} onChange={(e) => refilter(() => setTag(e.target.value))} data-testid="contacts-tag" aria-label="Filter by tag" />
        <select className="ct-filter-consent" value={optedIn} onChange={(e) => refilter(() => setOptedIn(e.target.value as '' | 'true' | 'false'))} data-testid="contacts-opted-in" aria-label="Filter by consent">
          <option value="">Any consent</option>
          <option value="true">Opted in</option>
          <option value="false">Not opted in, or opted out</option>
        </select>
        <button className="primary" onClick={() => (setImporting(true), setSelected(''), remember(''))} data-testid="import-contacts">
          Import CSV
        </button>
      </div>
      <div className="ct-layout">
        <section className="ct-list">
          {error && (
            <p className="error" data-testid="contacts-error">
              {error}
            </p>
          )}
          {page === null ? (
            <p className="muted" data-testid="contacts-loading">
              Loading…
            </p>
          ) : page.contacts.length === 0 ? (
            !error && (
              <p className="empty" data-testid="contacts-empty">
                {filtered ? 'No contact matches these filters.' : cursors.length > 1 ? 'No more contacts.' : 'No contacts yet. They appear when customers write, or import them from a CSV file with their opt-ins.'}
              </p>
            )
          ) : (
            <table className="list ct-table" data-testid="contact-list">
              <thead>
                <tr>
                  <th>Contact</th>
                  <th>Consent</th>
                  <th>Window</th>
                  <th>Tags</th>
                </tr>
              </thead>
              <tbody>
                {page.contacts.map((c) => {
                  const cs = consentState(c);
                  const w = windowFromInbound(c.last_inbound_at, now, c.window_closed_at);
                  return (
                    <tr key={c.key} className={`ct-row ${c.key === selected ? 'active' : ''}`} onClick={() => select(c.key)} data-testid="contact-row" data-key={c.key}>
                      <td className="ct-name">
                        <button className="link" data-testid="contact-name">
                          {contactName(c)}
                        </button>
                        <div className="muted small mono">{c.wa_id ? '+' + c.wa_id : c.user_id}</div>
                      </td>
                      <td>
                        <span className={`badge tone-${cs.tone}`} data-testid="contact-consent">
                          {cs.label}
                        </span>
                        {c.unreachable && <span className="badge tone-bad">unreachable</span>}
                      </td>
                      <td data-testid="contact-window">
                        {!w ? (
                          <span className="muted">never wrote</span>
                        ) : w.open ? (
                          <span className="ok" title={`closes ${formatTime(new Date(w.closesAt).toISOString())}`}>
                            open · {duration(w.remaining)} left
                          </span>
                        ) : (
                          <span className="muted" title={`last wrote ${formatTime(c.last_inbound_at)}`}>
                            closed · wrote {relative(c.last_inbound_at, now)}
                          </span>
                        )}
                      </td>
                      <td className="ct-tags" data-testid="contact-tags">
                        {c.tags.map((t) => (
                          <span key={t} className="badge">
                            {t}
                          </span>
                        ))}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          <div className="row ct-pager">
            <button className="small" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))} data-testid="contacts-prev">
              ← Previous
            </button>
            <span className="muted small" data-testid="contacts-page">
              page {cursors.length}
            </span>
            <button className="small" disabled={!page?.next} onClick={() => page?.next && setCursors((c) => [...c, page.next])} data-testid="contacts-next">
              Next →
            </button>
          </div>
        </section>
        <section className="ct-main">
          {importing ? (
            <ImportPanel
              onClose={() => setImporting(false)}
              onImported={() => {
                setCursors(['']);
                void load();
              }}
            />
          ) : selected ? (
            <ContactDetailView key={selected} contactKey={selected} onChanged={() => void load()} onGone={() => select('')} />
          ) : (
            <div className="empty ct-placeholder">{page?.contacts.length ? 'Choose a contact to see their window, consent history and blocks.' : ''}</div>
          )}
        </section>
      </div>
    </div>
  );
}
