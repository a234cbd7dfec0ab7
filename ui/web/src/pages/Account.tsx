// The signed-in user's own account: their password. Changing it signs out
// every other browser; this one carries on with a new session.
import { useState, type FormEvent } from 'react';
import { post, setCsrf } from '../api';
import { useSession } from '../session';

/** minPassword mirrors the server's rule (ui/auth: at least 10 characters). */
const minPassword = 10;

export function Account() {
  const { user } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState('');
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const problem = next && next.length < minPassword ? `At least ${minPassword} characters.` : again && again !== next ? 'The two new passwords differ.' : '';

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (problem) return;
    setBusy(true);
    setError('');
    setDone(false);
    try {
      const b = await post<{ csrf_token: string }>('/auth/password', { current_password: current, new_password: next });
      setCsrf(b.csrf_token);
      setCurrent('');
      setNext('');
      setAgain('');
      setDone(true);
    } catch (err) {
      setError((err as { status?: number }).status === 403 ? 'The current password is wrong.' : String((err as Error).message));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="auth account" onSubmit={submit} data-testid="account-form">
      <h1>Your account</h1>
      <p className="muted">
        {user.name} · {user.email} · {user.roles.join(', ')}
      </p>
      <h2>Change your password</h2>
      <label>
        Current password
        <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} data-testid="account-current" required />
      </label>
      <label>
        New password
        <input type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} data-testid="account-new" required />
      </label>
      <label>
        New password, again
        <input type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} data-testid="account-again" required />
      </label>
      {problem && <p className="hint error">{problem}</p>}
      {error && (
        <p className="error" role="alert" data-testid="account-error">
          {error}
        </p>
      )}
      {done && (
        <p className="notice" data-testid="account-done">
          Password changed. Every other browser signed in as you has been signed out.
        </p>
      )}
      <button className="primary" disabled={busy || !!problem || !current || !next || next !== again} data-testid="account-submit">
        {busy ? 'Changing…' : 'Change password'}
      </button>
    </form>
  );
}
