// The team's admin pages (issue 15 §1): users, agents, queues, canned
// responses and API tokens, with links to the Secrets and Event webhooks
// pages. Only admins
// reach them (routes.tsx), as only admins may call these routes of the API;
// the server refuses anyone else regardless of what the page shows.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { linkProps } from '../router';
import { useSession } from '../session';
import { formatTime } from '../templates/format';
import * as T from './api';
import { hoursText, numbersText, plain, splitList, temporaryPassword } from './model';
import { QueueForm } from './QueueForm';
import { Section } from './Section';
import './team.css';

const TABS = [
  ['users', 'Users'],
  ['agents', 'Agents'],
  ['queues', 'Queues'],
  ['canned', 'Canned responses'],
  ['tokens', 'API tokens'],
] as const;

export function TeamPage({ tab }: { tab?: string }) {
  const current = TABS.find(([id]) => id === tab)?.[0] ?? 'users';
  return (
    <div className="team-page" data-testid="team">
      <div className="toolbar">
        <h1>Team</h1>
      </div>
      <nav className="team-tabs" aria-label="Team sections">
        {TABS.map(([id, label]) => (
          <a key={id} {...linkProps('/team/' + id)} className={id === current ? 'active' : ''} aria-current={id === current ? 'page' : undefined} data-testid={`team-tab-${id}`}>
            {label}
          </a>
        ))}
        <a {...linkProps('/secrets')} data-testid="team-tab-secrets">
          Secrets
        </a>
        <a {...linkProps('/events')} data-testid="team-tab-events">
          Event webhooks
        </a>
      </nav>
      {current === 'users' && <UsersTab />}
      {current === 'agents' && <AgentsTab />}
      {current === 'queues' && <QueuesTab />}
      {current === 'canned' && <CannedTab />}
      {current === 'tokens' && <TokensTab />}
    </div>
  );
}

/** useList loads a list and reloads it on demand, keeping the error in words. */
function useList<X>(load: () => Promise<X[]>) {
  const [list, setList] = useState<X[] | null>(null);
  const [error, setError] = useState('');
  const reload = useCallback(async () => {
    try {
      setList(await load());
      setError('');
    } catch (e) {
      setError(plain(e));
      setList((l) => l ?? []);
    }
  }, [load]);
  useEffect(() => void reload(), [reload]);
  return { list, error, setError, reload };
}

function Messages({ error, notice }: { error: string; notice: string }) {
  return (
    <>
      {error && (
        <p className="error" role="alert" data-testid="team-error">
          {error}
        </p>
      )}
      {notice && (
        <p className="notice" role="status" data-testid="team-notice">
          {notice}
        </p>
      )}
    </>
  );
}

// ---- users -----------------------------------------------------------------

function UsersTab() {
  const me = useSession().user;
  const { list, error, setError, reload } = useList(T.listUsers);
  const [notice, setNotice] = useState('');
  const [secret, setSecret] = useState<{ email: string; password: string } | null>(null);

  async function act(what: () => Promise<unknown>, done: string) {
    setError('');
    try {
      await what();
      setNotice(done);
      await reload();
    } catch (e) {
      setError(plain(e));
    }
  }
  async function reset(email: string) {
    const password = temporaryPassword();
    await act(() => T.updateUser(email, { password }), `Password of ${email} reset; their sessions and tokens are ended.`);
    setSecret({ email, password });
  }

  return (
    <>
      <Messages error={error} notice={notice} />
      {secret && <OneTimeSecret label={`Temporary password for ${secret.email}`} value={secret.password} onClose={() => setSecret(null)} />}
      {list === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <div className="scroll-x">
          <table className="list" data-testid="user-list">
            <thead>
              <tr>
                <th>User</th>
                <th>Roles</th>
                <th>Since</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((u) => (
                <tr key={u.email} data-testid="user-row" data-email={u.email} className={u.disabled ? 'archived' : ''}>
                  <td>
                    <strong>{u.name}</strong>
                    <br />
                    <span className="muted">{u.email}</span>
                    {u.disabled && <span className="badge" data-testid="user-disabled">disabled</span>}
                  </td>
                  <td>
                    <RolePicker
                      value={u.roles}
                      label={`Roles of ${u.email}`}
                      onChange={(roles) => void act(() => T.updateUser(u.email, { roles }), `Roles of ${u.email}: ${roles.join(', ')}.`)}
                    />
                  </td>
                  <td>{formatTime(u.created_at)}</td>
                  <td className="actions">
                    <button className="small" onClick={() => void reset(u.email)} data-testid="user-reset">
                      Reset password
                    </button>
                    {u.email !== me.email && (
                      <button
                        className="small"
                        onClick={() => void act(() => T.updateUser(u.email, { disabled: !u.disabled }), `${u.email} ${u.disabled ? 'enabled' : 'disabled: signed out everywhere'}.`)}
                        data-testid="user-disable"
                      >
                        {u.disabled ? 'Enable' : 'Disable'}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <UserForm
        onCreated={(u, password) => {
          setNotice(`${u.email} can sign in now with the temporary password below; they should change it on their Account page.`);
          setSecret({ email: u.email, password });
          void reload();
        }}
      />
    </>
  );
}

function RolePicker({ value, onChange, label }: { value: T.Role[]; onChange: (r: T.Role[]) => void; label: string }) {
  return (
    <span className="roles" role="group" aria-label={label}>
      {T.ROLES.map((r) => (
        <label key={r} className="check">
          <input
            type="checkbox"
            checked={value.includes(r)}
            disabled={value.length === 1 && value.includes(r)}
            onChange={(e) => onChange(e.target.checked ? T.ROLES.filter((x) => x === r || value.includes(x)) : value.filter((x) => x !== r))}
            data-testid={`role-${r}`}
          />
          {r}
        </label>
      ))}
    </span>
  );
}

function UserForm({ onCreated }: { onCreated: (u: T.TeamUser, password: string) => void }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [roles, setRoles] = useState<T.Role[]>(['agent']);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError('');
    const password = temporaryPassword();
    try {
      const u = await T.createUser({ email, name, roles, password });
      setEmail('');
      setName('');
      onCreated(u, password);
    } catch (err) {
      setError(plain(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Section title="Invite someone" testid="user-form">
      <form className="team-form" onSubmit={submit}>
        <label>
          Email
          <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="off" data-testid="user-email" />
        </label>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} data-testid="user-name" />
        </label>
        <div className="field">
          <span className="field-label">Roles</span>
          <RolePicker value={roles} onChange={setRoles} label="Roles of the new user" />
          <span className="hint">Admins manage everything; analysts build flows, templates and schedules; agents answer the inbox.</span>
        </div>
        {error && (
          <p className="error" role="alert" data-testid="user-form-error">
            {error}
          </p>
        )}
        <button className="primary" disabled={busy || !email || !name} data-testid="user-create">
          {busy ? 'Creating…' : 'Create with a temporary password'}
        </button>
      </form>
    </Section>
  );
}

function OneTimeSecret({ label, value, onClose }: { label: string; value: string; onClose: () => void }) {
  return (
    <div className="one-time" role="status" data-testid="one-time-secret">
      <span>{label} (shown this once):</span>
      <code data-testid="one-time-value">{value}</code>
      <button className="small" onClick={() => void navigator.clipboard?.writeText(value)}>
        Copy
      </button>
      <button className="small" onClick={onClose} data-testid="one-time-close">
        Done
      </button>
    </div>
  );
}

// ---- agents ----------------------------------------------------------------

function AgentsTab() {
  const { list, error, setError, reload } = useList(T.listAgents);
  const [users, setUsers] = useState<T.TeamUser[]>([]);
  const [notice, setNotice] = useState('');
  useEffect(() => {
    T.listUsers().then(setUsers, () => {});
  }, []);
  const known = new Set((list ?? []).map((a) => a.email));
  const candidates = users.filter((u) => u.roles.includes('agent') && !known.has(u.email));

  async function save(a: T.Agent) {
    setError('');
    try {
      await T.putAgent({ email: a.email, name: a.name, queues: a.queues, capacity: a.capacity, status: a.status });
      setNotice(`Saved ${a.email}.`);
      await reload();
    } catch (e) {
      setError(plain(e));
    }
  }

  return (
    <>
      <Messages error={error} notice={notice} />
      <p className="muted">An agent works the queues listed, up to their capacity of conversations at once, while online. A user needs the agent role first (Users).</p>
      {list === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <div className="scroll-x">
          <table className="list" data-testid="agent-list">
            <thead>
              <tr>
                <th>Agent</th>
                <th>Queues</th>
                <th>Capacity</th>
                <th>Status</th>
                <th>Open</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((a) => (
                <AgentRow key={a.email} a={a} onSave={save} onRemove={() => void T.deleteAgent(a.email).then(reload, (e) => setError(plain(e)))} />
              ))}
              {list.length === 0 && (
                <tr>
                  <td colSpan={6} className="empty">
                    No agents yet.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
      {candidates.length > 0 && (
        <Section title="Add an agent" testid="agent-add">
          <div className="row">
            {candidates.map((u) => (
              <button key={u.email} onClick={() => void save({ email: u.email, name: u.name, queues: [], capacity: 5, status: 'offline' })} data-testid="agent-add-user">
                Add {u.name || u.email}
              </button>
            ))}
          </div>
        </Section>
      )}
    </>
  );
}

function AgentRow({ a, onSave, onRemove }: { a: T.Agent; onSave: (a: T.Agent) => void; onRemove: () => void }) {
  const [queues, setQueues] = useState(a.queues.join(', '));
  const [capacity, setCapacity] = useState(String(a.capacity));
  const [status, setStatus] = useState<T.AgentStatus>(a.status);
  const changed = queues !== a.queues.join(', ') || capacity !== String(a.capacity) || status !== a.status;
  return (
    <tr data-testid="agent-row" data-email={a.email}>
      <td>
        <strong>{a.name}</strong>
        <br />
        <span className="muted">{a.email}</span>
      </td>
      <td>
        <input value={queues} onChange={(e) => setQueues(e.target.value)} placeholder="sales, support" aria-label={`Queues of ${a.email}`} data-testid="agent-queues" />
      </td>
      <td>
        <input type="number" min={1} max={100} value={capacity} onChange={(e) => setCapacity(e.target.value)} className="narrow" aria-label={`Capacity of ${a.email}`} data-testid="agent-capacity" />
      </td>
      <td>
        <select value={status} onChange={(e) => setStatus(e.target.value as T.AgentStatus)} aria-label={`Status of ${a.email}`} data-testid="agent-status">
          <option value="online">online</option>
          <option value="away">away</option>
          <option value="offline">offline</option>
        </select>
      </td>
      <td>{a.open ?? 0}</td>
      <td className="actions">
        <button className="small primary" disabled={!changed} onClick={() => onSave({ ...a, queues: splitList(queues), capacity: Number(capacity), status })} data-testid="agent-save">
          Save
        </button>
        <button className="small danger" onClick={onRemove} data-testid="agent-remove">
          Remove
        </button>
      </td>
    </tr>
  );
}

// ---- queues ----------------------------------------------------------------

function QueuesTab() {
  const { list, error, setError, reload } = useList(T.listQueues);
  const [notice, setNotice] = useState('');
  const [editing, setEditing] = useState<T.Queue | null>(null);
  const [saved, setSaved] = useState(0); // a new form after each save
  const [numbers, setNumbers] = useState<T.BusinessNumber[]>([]);
  useEffect(() => {
    T.listNumbers().then(setNumbers, () => {});
  }, []);
  return (
    <>
      <Messages error={error} notice={notice} />
      <p className="muted">
        A queue is what a flow’s handoff names. Outside its business hours a waiting customer gets the closed reply. A queue may serve only some business numbers: its agents then get
        only conversations on those.
      </p>
      {list === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <div className="scroll-x">
          <table className="list" data-testid="queue-list">
            <thead>
              <tr>
                <th>Queue</th>
                <th>Numbers</th>
                <th>Hours</th>
                <th>Now</th>
                <th>Waiting</th>
                <th>Agents online</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((q) => (
                <tr key={q.id} data-testid="queue-row" data-id={q.id}>
                  <td>
                    <strong>{q.name || q.id}</strong> <code className="muted">{q.id}</code>
                    {q.known === false && (
                      <span className="badge changed" title="A flow hands off to this queue, but nobody created it">
                        not set up
                      </span>
                    )}
                  </td>
                  <td data-testid="queue-numbers">{numbersText(q.numbers, numbers)}</td>
                  <td className="pre">{q.hours ? `${hoursText(q.hours)}\n(${q.hours.timezone})` : 'always open'}</td>
                  <td>{q.open ? 'open' : 'closed'}</td>
                  <td>
                    {q.waiting ?? 0}
                    {!!q.off_number && (
                      <span className="badge changed" title="Waiting on a number this queue does not serve: no agent of it gets them. Transfer them from the inbox." data-testid="queue-off-number">
                        {q.off_number} on other numbers
                      </span>
                    )}
                  </td>
                  <td className={q.agents_online ? '' : 'warning'}>{q.agents_online ?? 0}</td>
                  <td className="actions">
                    <button className="small" onClick={() => setEditing(q)} data-testid="queue-edit">
                      Edit
                    </button>
                    {q.known !== false && (
                      <button className="small danger" onClick={() => void T.deleteQueue(q.id).then(reload, (e) => setError(plain(e)))} data-testid="queue-delete">
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <QueueForm
        key={editing?.id ?? 'new' + saved}
        queue={editing}
        numbers={numbers}
        onSaved={(q) => {
          setNotice(`Saved queue ${q.id}.`);
          setEditing(null);
          setSaved((n) => n + 1);
          void reload();
        }}
      />
    </>
  );
}

// ---- canned responses ------------------------------------------------------

function CannedTab() {
  const { list, error, setError, reload } = useList(T.listCanned);
  const [notice, setNotice] = useState('');
  const [editing, setEditing] = useState<T.Canned | null>(null);
  const [saved, setSaved] = useState(0);
  return (
    <>
      <Messages error={error} notice={notice} />
      {list === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <div className="scroll-x">
          <table className="list" data-testid="canned-list">
            <thead>
              <tr>
                <th>Title</th>
                <th>Text</th>
                <th>Queue</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((c) => (
                <tr key={c.id} data-testid="canned-row">
                  <td>{c.title}</td>
                  <td className="pre">{c.text}</td>
                  <td>{c.queue || 'every queue'}</td>
                  <td className="actions">
                    <button className="small" onClick={() => setEditing(c)} data-testid="canned-edit">
                      Edit
                    </button>
                    <button className="small danger" onClick={() => void T.deleteCanned(c.id).then(reload, (e) => setError(plain(e)))} data-testid="canned-delete">
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
              {list.length === 0 && (
                <tr>
                  <td colSpan={4} className="empty">
                    No canned responses yet.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
      <CannedForm
        key={editing?.id ?? 'new' + saved}
        canned={editing}
        onSaved={(c) => {
          setNotice(`Saved “${c.title}”.`);
          setEditing(null);
          setSaved((n) => n + 1);
          void reload();
        }}
      />
    </>
  );
}

function CannedForm({ canned, onSaved }: { canned: T.Canned | null; onSaved: (c: T.Canned) => void }) {
  const [title, setTitle] = useState(canned?.title ?? '');
  const [text, setText] = useState(canned?.text ?? '');
  const [queue, setQueue] = useState(canned?.queue ?? '');
  const [error, setError] = useState('');
  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      const body = { title, text, queue: queue || undefined };
      onSaved(canned ? await T.updateCanned({ ...body, id: canned.id }) : await T.createCanned(body));
      if (!canned) {
        setTitle('');
        setText('');
      }
    } catch (err) {
      setError(plain(err));
    }
  }
  return (
    <Section title={canned ? `Edit “${canned.title}”` : 'Add a canned response'} testid="canned-form">
      <form className="team-form" onSubmit={submit}>
        <label>
          Title
          <input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={100} required data-testid="canned-title" />
        </label>
        <label>
          Text
          <textarea rows={3} value={text} onChange={(e) => setText(e.target.value)} maxLength={4096} required data-testid="canned-text" />
        </label>
        <label>
          Queue (empty: offered in every queue)
          <input value={queue} onChange={(e) => setQueue(e.target.value.trim())} data-testid="canned-queue" />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button className="primary" disabled={!title.trim() || !text.trim()} data-testid="canned-save">
          Save
        </button>
      </form>
    </Section>
  );
}

// ---- API tokens ------------------------------------------------------------

function TokensTab() {
  const me = useSession().user;
  const { list, error, setError, reload } = useList(T.listTokens);
  const [notice, setNotice] = useState('');
  const [secret, setSecret] = useState('');
  const [name, setName] = useState('');
  const [email, setEmail] = useState(me.email);
  const [expires, setExpires] = useState('90d');
  const [service, setService] = useState(false);

  async function create(e: FormEvent) {
    e.preventDefault();
    setError('');
    try {
      const r = await T.createToken({ name, email, expires_in: expires, service });
      setSecret(r.secret);
      setName('');
      setNotice(`Token “${r.token.name}” made for ${r.token.email}.`);
      await reload();
    } catch (err) {
      setError(plain(err));
    }
  }

  return (
    <>
      <Messages error={error} notice={notice} />
      {secret && <OneTimeSecret label="Token" value={secret} onClose={() => setSecret('')} />}
      <p className="muted">
        A token acts as its user with their roles: give it as <code>Authorization: Bearer …</code>. A service token survives its user’s password change.
      </p>
      {list === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <div className="scroll-x">
          <table className="list" data-testid="token-list">
            <thead>
              <tr>
                <th>Name</th>
                <th>User</th>
                <th>Made</th>
                <th>Last used</th>
                <th>Expires</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((t) => (
                <tr key={t.id} data-testid="token-row">
                  <td>
                    {t.name} {t.service && <span className="badge">service</span>}
                  </td>
                  <td>{t.email}</td>
                  <td>{formatTime(t.created_at)}</td>
                  <td>{t.last_used_at ? formatTime(t.last_used_at) : 'never'}</td>
                  <td>{t.expires_at ? formatTime(t.expires_at) : 'never'}</td>
                  <td className="actions">
                    <button className="small danger" onClick={() => void T.revokeToken(t.id).then(() => (setNotice(`Revoked “${t.name}”.`), reload()), (e) => setError(plain(e)))} data-testid="token-revoke">
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
              {list.length === 0 && (
                <tr>
                  <td colSpan={6} className="empty">
                    No API tokens.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
      <Section title="Make a token" testid="token-form">
        <form className="team-form" onSubmit={create}>
          <label>
            Name (what uses it)
            <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} data-testid="token-name" />
          </label>
          <label>
            For user
            <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required data-testid="token-email" />
          </label>
          <label>
            Expires after
            <select value={expires} onChange={(e) => setExpires(e.target.value)} data-testid="token-expires">
              <option value="30d">30 days</option>
              <option value="90d">90 days</option>
              <option value="365d">a year</option>
              <option value="">never</option>
            </select>
          </label>
          <label className="check">
            <input type="checkbox" checked={service} onChange={(e) => setService(e.target.checked)} data-testid="token-service" />
            Service token
          </label>
          <button className="primary" disabled={!name.trim()} data-testid="token-create">
            Make token
          </button>
        </form>
      </Section>
    </>
  );
}
