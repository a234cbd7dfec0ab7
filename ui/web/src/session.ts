// Who is signed in, and what their roles let them see.
import { createContext, useContext } from 'react';
import type { User } from './types';

export interface Session {
  user: User;
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in app');
  return s;
}

/** hasRole: admins may do everything. */
export function hasRole(u: User, ...roles: string[]): boolean {
  return u.roles.includes('admin') || roles.some((r) => u.roles.includes(r));
}
