// Event webhooks (issue 12 §3): admins subscribe their systems' URLs to
// events, see each delivery and its attempts (last status, next retry),
// replay what failed, send a test event, rotate a secret, and delete. A
// signing secret is shown once, when it is made, with a warning to copy
// it: the server never returns it again.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError } from '../api';
import { formatTime } from '../templates/format';
import {
  createSubscription,
  deleteSubscription,
  deliveryStatus,
  listDeliveries,
  listSubscriptions,
  maxDescriptionLen,
  replayDelivery,
  replayFailed,
  sendTest,
  typesLabel,
  updateSubscription,
  urlProblem,
  type Delivery,
  type Subscription,
} from './model';
import './events.css';

export function EventsPage() {
  const [list, setList] = useState<Subscription[] | null>(null);
  const [types, setTypes] = useState<string[]>([]);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [secret, setSecret] = useState<{ id: string; secret: string } | null>(null);
  const [open, setOpen] = useState('');

  const load = useCallback(async () => {
    try {
      const r = await listSubscriptions();
      setList(r.subscriptions);
      setTypes(r.event_types);
      setError('');
    } catch (e) {
      setError(e instanceof ApiError && e.status === 403 ? 'Only admins manage event webhooks.' : (e as Error).message);
      setList((l) => l ?? []);
    }
  }, []);
  useEffect(() => void load(), [load]);

  const showSecret = (id: string, s: string) => setSecret({ id, secret: s });
  return (
    <div className="events-page" data-testid="events">
      <div className="toolbar">
        <h1>Event webhooks</h1>
      </div>
      <p className="muted">
        Parley posts what happens in conversations to your systems: each event signed with the subscription's secret (header <code>Parley-Signature</code>), retried for 24
        hours while your URL is down, in order per contact. Receivers drop repeats by <code>Parley-Event-Id</code>.
      </p>
      {error && (
        <p className="error" role="alert" data-testid="events-error">
          {error}
        </p>
      )}
      {notice && (
        <p className="notice" data-testid="events-notice" onClick={() => setNotice('')}>
          {notice}
        </p>
      )}
      {secret && (
        <div className="secret-once" role="status" data-testid="events-secret">
          <p>
            The signing secret of <code>{secret.id}</code>. Copy it now into your receiver: it is not shown again.
          </p>
          <code className="secret-value" data-testid="events-secret-value">
            {secret.secret}
          </code>
          <button onClick={() => setSecret(null)} data-testid="events-secret-done">
            I have copied it
          </button>
        </div>
      )}
      {list === null ? (
        <p className="muted">Loading…</p>
      ) : list.length === 0 ? (
        <p className="empty" data-testid="events-empty">
          No subscriptions yet.
        </p>
      ) : (
        <table className="list" data-testid="subscription-list">
          <thead>
            <tr>
              <th>URL</th>
              <th>Events</th>
              <th>Secret</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((s) => (
              <SubscriptionRow
                key={s.id}
                s={s}
                open={open === s.id}
                onOpen={() => setOpen(open === s.id ? '' : s.id)}
                onChanged={(msg) => (setNotice(msg), void load())}
                onSecret={showSecret}
                onError={setError}
              />
            ))}
          </tbody>
        </table>
      )}
      {open && <Deliveries id={open} onError={setError} onNotice={setNotice} />}
      <SubscriptionForm
        types={types}
        onCreated={(s, sec) => {
          setNotice(`Subscribed ${s.url}.`);
          showSecret(s.id, sec);
          void load();
        }}
      />
    </div>
  );
}

function SubscriptionRow(p: {
  s: Subscription;
  open: boolean;
  onOpen: () => void;
  onChanged: (msg: string) => void;
  onSecret: (id: string, secret: string) => void;
  onError: (msg: string) => void;
}) {
  const { s } = p;
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  async function act(fn: () => Promise<void>) {
    setBusy(true);
    try {
      await fn();
    } catch (e) {
      p.onError((e as Error).message);
    } finally {
      setBusy(false);
      setConfirm(false);
    }
  }
  return (
    <tr data-testid="subscription-row" data-id={s.id} className={s.enabled ? '' : 'archived'}>
      <td>
        <code>{s.url}</code>
        {s.description && <div className="muted">{s.description}</div>}
      </td>
      <td>{typesLabel(s.types)}</td>
      <td>
        <code>…{s.secret_hint}</code>
      </td>
      <td>
        {formatTime(s.created_at)} · {s.created_by}
      </td>
      <td className="actions">
        <label className="toggle">
          <input
            type="checkbox"
            checked={s.enabled}
            disabled={busy}
            data-testid="subscription-enabled"
            onChange={(e) =>
              void act(async () => {
                await updateSubscription(s.id, { enabled: e.target.checked });
                p.onChanged(`${e.target.checked ? 'Enabled' : 'Disabled'} ${s.url}.`);
              })
            }
          />{' '}
          enabled
        </label>
        <button onClick={p.onOpen} data-testid="subscription-deliveries">
          {p.open ? 'Hide deliveries' : 'Deliveries'}
        </button>
        <button
          disabled={busy}
          data-testid="subscription-test"
          onClick={() =>
            void act(async () => {
              const a = await sendTest(s.id);
              p.onChanged(a.error ? `Test event to ${s.url} failed: ${a.error}` : `Test event delivered to ${s.url} (HTTP ${a.status}, ${a.duration_ms} ms).`);
            })
          }
        >
          Send test
        </button>
        <button
          disabled={busy}
          data-testid="subscription-rotate"
          onClick={() =>
            void act(async () => {
              const r = await updateSubscription(s.id, { rotate_secret: true });
              if (r.secret) p.onSecret(s.id, r.secret);
              p.onChanged(`New secret for ${s.url}: deliveries are signed with it from now on.`);
            })
          }
        >
          New secret
        </button>
        {confirm ? (
          <>
            <button
              className="danger"
              disabled={busy}
              data-testid="subscription-delete-confirm"
              onClick={() =>
                void act(async () => {
                  await deleteSubscription(s.id);
                  p.onChanged(`Deleted ${s.url} and its deliveries.`);
                })
              }
            >
              Delete, with pending deliveries
            </button>
            <button onClick={() => setConfirm(false)}>Keep</button>
          </>
        ) : (
          <button className="danger" onClick={() => setConfirm(true)} data-testid="subscription-delete">
            Delete
          </button>
        )}
      </td>
    </tr>
  );
}

const pageSize = 50;
const refreshMs = 5000;

function Deliveries(p: { id: string; onError: (msg: string) => void; onNotice: (msg: string) => void }) {
  const [state, setState] = useState('');
  const [rows, setRows] = useState<Delivery[] | null>(null);
  const [next, setNext] = useState(0);
  const [busy, setBusy] = useState(false);

  const load = useCallback(
    async (before: number) => {
      try {
        const r = await listDeliveries(p.id, state, before);
        setRows((old) => (before ? [...(old ?? []), ...r.deliveries] : r.deliveries));
        setNext(r.next);
      } catch (e) {
        p.onError((e as Error).message);
      }
    },
    [p, state],
  );
  useEffect(() => void load(0), [load]);
  // The newest page follows the deliveries as they go (every 5 s) until
  // the admin pages back to older ones.
  const paged = (rows?.length ?? 0) > pageSize;
  useEffect(() => {
    if (paged) return;
    const id = setInterval(() => void load(0), refreshMs);
    return () => clearInterval(id);
  }, [load, paged]);

  async function replay(fn: () => Promise<{ replayed: number }>) {
    setBusy(true);
    try {
      const r = await fn();
      p.onNotice(r.replayed === 1 ? 'Replaying 1 delivery.' : `Replaying ${r.replayed} deliveries.`);
      await load(0);
    } catch (e) {
      p.onError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="deliveries" data-testid="deliveries">
      <div className="toolbar">
        <h2>Deliveries</h2>
        <select value={state} onChange={(e) => setState(e.target.value)} data-testid="deliveries-state">
          <option value="">all</option>
          <option value="pending">pending</option>
          <option value="delivered">delivered</option>
          <option value="failed">failed</option>
        </select>
        <button onClick={() => void load(0)}>Refresh</button>
        <button disabled={busy} onClick={() => void replay(() => replayFailed(p.id))} data-testid="deliveries-replay-failed">
          Replay all failed
        </button>
      </div>
      {rows === null ? (
        <p className="muted">Loading…</p>
      ) : rows.length === 0 ? (
        <p className="empty" data-testid="deliveries-empty">
          No deliveries{state ? ` ${state}` : ''}.
        </p>
      ) : (
        <table className="list" data-testid="delivery-list">
          <thead>
            <tr>
              <th>#</th>
              <th>Event</th>
              <th>Contact</th>
              <th>When</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.seq} data-testid="delivery-row" data-state={d.state}>
                <td>{d.seq}</td>
                <td>
                  <code title={d.event.id}>{d.event.type}</code>
                </td>
                <td>
                  <code>{d.event.conversation || d.event.contact}</code>
                </td>
                <td>{formatTime(d.event.at)}</td>
                <td className={'state-' + d.state} data-testid="delivery-status">
                  {deliveryStatus(d, formatTime)}
                </td>
                <td>
                  {d.state !== 'pending' && (
                    <button disabled={busy} onClick={() => void replay(() => replayDelivery(p.id, d.seq))} data-testid="delivery-replay">
                      Replay
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next > 0 && <button onClick={() => void load(next)}>Older</button>}
    </section>
  );
}

function SubscriptionForm(p: { types: string[]; onCreated: (s: Subscription, secret: string) => void }) {
  const [url, setURL] = useState('');
  const [description, setDescription] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const urlErr = url ? urlProblem(url) : '';

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (urlProblem(url)) return;
    setBusy(true);
    setError('');
    try {
      const r = await createSubscription({ url, types: chosen, description });
      setURL('');
      setDescription('');
      setChosen([]);
      p.onCreated(r.subscription, r.secret);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="auth subscription-form" onSubmit={submit} data-testid="subscription-form">
      <h2>Subscribe a URL</h2>
      <label>
        URL
        <input value={url} onChange={(e) => setURL(e.target.value.trim())} placeholder="https://crm.example.com/parley" spellCheck={false} data-testid="subscription-url" required />
      </label>
      {urlErr && <p className="hint error">{urlErr}</p>}
      <label>
        Description
        <input value={description} onChange={(e) => setDescription(e.target.value)} maxLength={maxDescriptionLen} placeholder="CRM sync" data-testid="subscription-description" />
      </label>
      <fieldset className="types">
        <legend>Events (none chosen: every event)</legend>
        {p.types.map((t) => (
          <label key={t} className="type">
            <input
              type="checkbox"
              checked={chosen.includes(t)}
              onChange={(e) => setChosen(e.target.checked ? [...chosen, t] : chosen.filter((x) => x !== t))}
              data-testid={'subscription-type-' + t}
            />{' '}
            <code>{t}</code>
          </label>
        ))}
      </fieldset>
      {error && (
        <p className="error" role="alert" data-testid="subscription-form-error">
          {error}
        </p>
      )}
      <button className="primary" disabled={busy || !url || !!urlErr} data-testid="subscription-save">
        {busy ? 'Subscribing…' : 'Subscribe'}
      </button>
    </form>
  );
}
