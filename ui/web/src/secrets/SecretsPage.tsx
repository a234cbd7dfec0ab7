// Secrets (issue 12 §2): admins list the named values flows send
// ({{ secrets.NAME }} in an http step) with their fingerprints and who
// stored them when, add or replace one, and delete one after confirming.
// A value is typed into a password field, sent once, and cleared: the
// server never returns it, so no page can show it again.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError } from '../api';
import { linkProps } from '../router';
import { formatTime } from '../templates/format';
import { deleteSecret, listSecrets, nameProblem, putSecret, usage, valueProblem, type SecretInfo } from './model';
import './secrets.css';

export function SecretsPage() {
  const [list, setList] = useState<SecretInfo[] | null>(null);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');

  const load = useCallback(async () => {
    try {
      setList(await listSecrets());
      setError('');
    } catch (e) {
      setError(e instanceof ApiError && e.status === 403 ? 'Only admins manage secrets.' : (e as Error).message);
      setList((l) => l ?? []);
    }
  }, []);
  useEffect(() => void load(), [load]);

  const taken = (list ?? []).map((s) => s.name);
  return (
    <div className="secrets-page" data-testid="secrets">
      <div className="toolbar">
        <a {...linkProps('/team')} data-testid="secrets-team">
          Team
        </a>
        <span className="muted">/</span>
        <h1>Secrets</h1>
      </div>
      <p className="muted">
        Values a flow sends without showing them, written <code>{usage('name')}</code> in an http step. A value is stored encrypted and never shown again, here or anywhere; the
        fingerprint tells whether two installs sharing the secrets key hold the same value.
      </p>
      {error && (
        <p className="error" role="alert" data-testid="secrets-error">
          {error}
        </p>
      )}
      {notice && (
        <p className="notice" data-testid="secrets-notice">
          {notice}
        </p>
      )}
      {list === null ? (
        <p className="muted">Loading…</p>
      ) : list.length === 0 ? (
        <p className="empty" data-testid="secrets-empty">
          No secrets yet.
        </p>
      ) : (
        <table className="list" data-testid="secret-list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Fingerprint</th>
              <th>Created</th>
              <th>Updated</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((s) => (
              <SecretRow key={s.name} s={s} onDeleted={() => (setNotice(`Deleted ${s.name}.`), void load())} onError={setError} />
            ))}
          </tbody>
        </table>
      )}
      <SecretForm taken={taken} onSaved={(s, replaced) => (setNotice(`${replaced ? 'Replaced' : 'Added'} ${s.name}: use it as ${usage(s.name)}.`), void load())} />
    </div>
  );
}

function SecretRow(p: { s: SecretInfo; onDeleted: () => void; onError: (msg: string) => void }) {
  const { s } = p;
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  async function remove() {
    setBusy(true);
    try {
      await deleteSecret(s.name);
      p.onDeleted();
    } catch (e) {
      p.onError((e as Error).message);
      setBusy(false);
      setConfirm(false);
    }
  }
  return (
    <tr data-testid="secret-row" data-name={s.name}>
      <td>
        <code>{s.name}</code>
      </td>
      <td>
        <code data-testid="secret-fingerprint">{s.fingerprint}</code>
      </td>
      <td>
        {formatTime(s.created_at)} · {s.created_by}
      </td>
      <td>
        {formatTime(s.updated_at)} · {s.updated_by}
      </td>
      <td>
        {confirm ? (
          <>
            <span className="warning">Flows using it will fail. </span>
            <button className="danger" disabled={busy} onClick={() => void remove()} data-testid="secret-delete-confirm">
              Delete for good
            </button>
            <button onClick={() => setConfirm(false)}>Keep</button>
          </>
        ) : (
          <button className="danger" onClick={() => setConfirm(true)} data-testid="secret-delete">
            Delete
          </button>
        )}
      </td>
    </tr>
  );
}

function SecretForm(p: { taken: string[]; onSaved: (s: SecretInfo, replaced: boolean) => void }) {
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const nameErr = name ? nameProblem(name) : '';
  const valueErr = value ? valueProblem(value) : '';
  const replacing = p.taken.includes(name);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (nameProblem(name) || valueProblem(value)) return;
    setBusy(true);
    setError('');
    try {
      const s = await putSecret(name, value);
      setName('');
      setValue(''); // the value is not kept past its sending
      p.onSaved(s, replacing);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="auth secret-form" onSubmit={submit} data-testid="secret-form">
      <h2>Add or replace a secret</h2>
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value.trim())} placeholder="shop_token" maxLength={64} autoComplete="off" spellCheck={false} data-testid="secret-name" required />
      </label>
      {nameErr && <p className="hint error">{nameErr}</p>}
      {replacing && <p className="hint warning">A secret of this name exists: saving replaces its value.</p>}
      <label>
        Value
        <input type="password" value={value} onChange={(e) => setValue(e.target.value)} autoComplete="new-password" spellCheck={false} data-testid="secret-value" required />
      </label>
      {valueErr && <p className="hint error">{valueErr}</p>}
      {error && (
        <p className="error" role="alert" data-testid="secret-form-error">
          {error}
        </p>
      )}
      <button className="primary" disabled={busy || !name || !value || !!nameErr || !!valueErr} data-testid="secret-save">
        {busy ? 'Saving…' : replacing ? 'Replace' : 'Add'}
      </button>
    </form>
  );
}
