import { useState, type FormEvent } from 'react';
import { post } from '../api';
import type { User } from '../types';

interface AuthBody {
  user: User;
  csrf_token: string;
}

export function SignIn({ onDone }: { onDone: (b: AuthBody) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      onDone(await post<AuthBody>('/auth/login', { email, password }));
    } catch (err) {
      setError((err as { status?: number }).status === 401 ? 'Wrong email or password.' : String((err as Error).message));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="auth" onSubmit={submit} data-testid="signin-form">
      <h1>Sign in to Parley</h1>
      <label>
        Email
        <input type="email" autoFocus autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} data-testid="signin-email" required />
      </label>
      <label>
        Password
        <input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} data-testid="signin-password" required />
      </label>
      {error && <p className="error" data-testid="signin-error">{error}</p>}
      <button className="primary" disabled={busy} data-testid="signin-submit">
        Sign in
      </button>
    </form>
  );
}

export function Setup({ onDone }: { onDone: (b: AuthBody) => void }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      onDone(await post<AuthBody>('/auth/setup', { email, name, password }));
    } catch (err) {
      setError(String((err as Error).message));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="auth" onSubmit={submit} data-testid="setup-form">
      <h1>Welcome to Parley</h1>
      <p>No one can sign in yet. Create the first administrator.</p>
      <label>
        Name
        <input autoFocus value={name} onChange={(e) => setName(e.target.value)} data-testid="setup-name" required />
      </label>
      <label>
        Email
        <input type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} data-testid="setup-email" required />
      </label>
      <label>
        Password
        <input type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} data-testid="setup-password" required minLength={8} />
      </label>
      {error && <p className="error" data-testid="setup-error">{error}</p>}
      <button className="primary" disabled={busy} data-testid="setup-submit">
        Create and sign in
      </button>
    </form>
  );
}
