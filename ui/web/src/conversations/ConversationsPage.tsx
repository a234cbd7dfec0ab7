// The conversations log (issue 15 §3): every conversation, the bot's, the
// agents' and the ended ones, filtered by flow, status, node, business
// number, customer and the days they started; a row opens the whole
// transcript. The filters live in the URL, so that a link names a slice
// of the log ("the conversations that stopped at this node"). Agents see
// the conversations of their queues, as the API decides.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError, get } from '../api';
import { linkProps, navigate } from '../router';
import { hasRole, useSession } from '../session';
import { formatTime } from '../templates/format';
import type { FlowSummary } from '../types';
import { conversationPath, customer, emptyFilter, filterFromQuery, filterQuery, STATUSES, type ConversationItem, type LogFilter } from './model';
import './conversations.css';

export function ConversationsPage() {
  const { user } = useSession();
  const [filter, setFilter] = useState<LogFilter>(() => filterFromQuery(location.search));
  const [applied, setApplied] = useState(() => filterQuery(filterFromQuery(location.search)));
  const [items, setItems] = useState<ConversationItem[] | null>(null);
  const [next, setNext] = useState('');
  const [error, setError] = useState('');
  const [flows, setFlows] = useState<FlowSummary[]>([]);

  useEffect(() => {
    if (hasRole(user, 'analyst')) get<{ flows: FlowSummary[] }>('/flows').then((r) => setFlows(r.flows), () => {});
  }, [user]);

  const load = useCallback(async (query: string, cursor: string) => {
    try {
      const q = [query, 'limit=50', cursor ? 'cursor=' + encodeURIComponent(cursor) : ''].filter(Boolean).join('&');
      const r = await get<{ conversations: ConversationItem[]; next_cursor: string }>('/conversations?' + q);
      setItems((old) => (cursor ? [...(old ?? []), ...r.conversations] : r.conversations));
      setNext(r.next_cursor);
      setError('');
    } catch (e) {
      setError(e instanceof ApiError && e.status === 400 ? `Check the filters: ${e.message}.` : (e as Error).message);
      setItems((old) => old ?? []);
    }
  }, []);
  useEffect(() => void load(applied, ''), [applied, load]);

  function apply(e?: FormEvent, f = filter) {
    e?.preventDefault();
    const q = filterQuery(f);
    navigate('/conversations' + (q ? '?' + q : ''), true);
    setItems(null);
    setApplied(q);
  }
  const set = (k: keyof LogFilter) => (e: { target: { value: string } }) => setFilter({ ...filter, [k]: e.target.value });

  return (
    <div className="log-page" data-testid="conversations">
      <div className="toolbar">
        <h1>Conversations</h1>
      </div>
      <form className="log-filters" onSubmit={apply} data-testid="log-filters">
        <label>
          Flow
          <input list="log-flows" value={filter.flow} onChange={set('flow')} placeholder="any" data-testid="filter-flow" />
          <datalist id="log-flows">
            {flows.map((f) => (
              <option key={f.id} value={f.id}>
                {f.name}
              </option>
            ))}
          </datalist>
        </label>
        <label>
          Status
          <select value={filter.status} onChange={set('status')} data-testid="filter-status">
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          At node
          <input value={filter.node} onChange={set('node')} placeholder="any" data-testid="filter-node" />
        </label>
        <label>
          Business number
          <input value={filter.number} onChange={set('number')} placeholder="phone number id" inputMode="numeric" data-testid="filter-number" />
        </label>
        <label>
          Customer
          <input value={filter.contact} onChange={set('contact')} placeholder="phone number" data-testid="filter-contact" />
        </label>
        <label>
          Started from
          <input type="date" value={filter.from} max={filter.to || undefined} onChange={set('from')} data-testid="filter-from" />
        </label>
        <label>
          to
          <input type="date" value={filter.to} min={filter.from || undefined} onChange={set('to')} data-testid="filter-to" />
        </label>
        <div className="log-filter-actions">
          <button className="primary" data-testid="filter-apply">
            Show
          </button>
          <button
            type="button"
            onClick={() => {
              setFilter(emptyFilter());
              apply(undefined, emptyFilter());
            }}
            data-testid="filter-clear"
          >
            Clear
          </button>
        </div>
      </form>
      {error && (
        <p className="error" role="alert" data-testid="log-error">
          {error}
        </p>
      )}
      {items === null ? (
        <p className="muted">Loading…</p>
      ) : items.length === 0 ? (
        <p className="empty" data-testid="log-empty">
          No conversation matches{applied ? ' these filters' : ' yet'}.
        </p>
      ) : (
        <div className="scroll-x">
          <table className="list log-list" data-testid="log-list">
            <thead>
              <tr>
                <th>Started</th>
                <th>Customer</th>
                <th>Flow</th>
                <th>At node</th>
                <th>Status</th>
                <th>Last activity</th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.id} data-testid="log-row" data-id={c.id}>
                  <td className="nowrap">
                    <a {...linkProps(conversationPath(c.id))} data-testid="log-open">
                      {formatTime(c.started_at)}
                    </a>
                  </td>
                  <td>{customer(c)}</td>
                  <td>
                    <span className="mono">{c.flow}</span> <span className="muted">v{c.version}</span>
                  </td>
                  <td className="mono">{c.node}</td>
                  <td>
                    <span className={`badge st-${c.status}`}>{c.status}</span>
                    {c.reason && <div className="hint error">{c.reason}</div>}
                  </td>
                  <td className="nowrap">{formatTime(c.last_activity_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next && (
        <button onClick={() => void load(applied, next)} data-testid="log-more">
          More
        </button>
      )}
    </div>
  );
}
