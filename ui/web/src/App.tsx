import { Component, Suspense, useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { get, post, setCsrf, setUnauthorizedHandler } from './api';
import { linkProps, match, navigate, usePath } from './router';
import { routes } from './routes';
import { SessionContext, hasRole } from './session';
import { SignIn, Setup } from './pages/SignIn';
import { SendingBanner } from './SendingBanner';
import type { User } from './types';

interface AuthBody {
  user: User;
  csrf_token: string;
}

type Boot = { state: 'loading' } | { state: 'signin' } | { state: 'setup' } | { state: 'in'; user: User };

export function App() {
  const [boot, setBoot] = useState<Boot>({ state: 'loading' });

  const signedIn = useCallback((b: AuthBody) => {
    setCsrf(b.csrf_token);
    setBoot({ state: 'in', user: b.user });
  }, []);

  const check = useCallback(async () => {
    try {
      signedIn(await get<AuthBody>('/auth/me'));
    } catch {
      try {
        const s = await get<{ needed: boolean }>('/auth/setup');
        setBoot({ state: s.needed ? 'setup' : 'signin' });
      } catch {
        setBoot({ state: 'signin' });
      }
    }
  }, [signedIn]);

  useEffect(() => {
    setUnauthorizedHandler(() => setBoot({ state: 'signin' }));
    void check();
  }, [check]);

  const signOut = useCallback(async () => {
    try {
      await post('/auth/logout');
    } catch {
      /* signed out either way */
    }
    setCsrf('');
    setBoot({ state: 'signin' });
  }, []);

  if (boot.state === 'loading') return <div className="boot">Loading…</div>;
  if (boot.state === 'setup') return <Setup onDone={signedIn} />;
  if (boot.state === 'signin') return <SignIn onDone={signedIn} />;
  return (
    <SessionContext.Provider value={{ user: boot.user, signOut }}>
      <Shell user={boot.user} signOut={signOut} />
    </SessionContext.Provider>
  );
}

function Shell({ user, signOut }: { user: User; signOut: () => void }) {
  const path = usePath();
  const allowed = useMemo(() => routes.filter((r) => hasRole(user, ...r.roles)), [user]);
  const home = allowed.find((r) => r.nav)?.path;
  useEffect(() => {
    if ((path === '/' || path === '') && home) navigate(home, true);
  }, [path, home]);

  let page = null;
  for (const r of allowed) {
    const params = match(r.path, path);
    if (params) {
      page = r.render(params);
      break;
    }
  }
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" {...linkProps(home ?? '/')}>
          Parley
        </a>
        <nav data-testid="nav">
          {allowed
            .filter((r) => r.nav)
            .map((r) => (
              <a key={r.path} {...linkProps(r.path)} className={path.startsWith(r.path) ? 'active' : ''} data-testid={`nav-${r.nav!.toLowerCase()}`}>
                {r.nav}
              </a>
            ))}
        </nav>
        <span className="spacer" />
        <a className="who" {...linkProps('/account')} title="Your account" data-testid="who">
          {user.name || user.email} <small>({user.roles.join(', ')})</small>
        </a>
        <button className="link" onClick={signOut} data-testid="signout">
          Sign out
        </button>
      </header>
      <SendingBanner user={user} />
      <main className="page">
        <PageBoundary key={path}>
          <Suspense fallback={<div className="boot" data-testid="page-loading">Loading…</div>}>
            {page ?? (
              <div className="empty" data-testid="not-found">
                {home ? 'Nothing here.' : 'Your role has no page in this app yet.'}
              </div>
            )}
          </Suspense>
        </PageBoundary>
      </main>
    </div>
  );
}

/**
 * PageBoundary catches a page that fails to load or render: most often a
 * page's chunk that is gone because the server was upgraded while this tab
 * stayed open (chunks are named by their content). Reloading fetches the
 * current index.html and its chunks.
 */
class PageBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="page-error" data-testid="page-error">
        <p className="error">This page could not be loaded: {this.state.error.message}</p>
        <p className="muted">If Parley was just upgraded, reloading fetches the new version.</p>
        <button className="primary" onClick={() => location.reload()}>
          Reload
        </button>
      </div>
    );
  }
}
