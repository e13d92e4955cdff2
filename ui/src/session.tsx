/**
 * The signed-in user: restored from `GET /api/me` on start, set by the sign-in form, cleared by
 * sign-out or by any 401 (the page stays where it was; signing in again shows it).
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, onUnauthorized, setCsrfToken } from './api.ts';
import { clearCache } from './data.tsx';
import type { SessionInfo, User } from './types.ts';

export type SessionState =
  | { status: 'loading' }
  /** `previous`: the user whose session just ended (401); the page stays underneath the sign-in. */
  | { status: 'signedOut'; expired?: boolean; previous?: User; error?: ApiError }
  | { status: 'signedIn'; user: User };

interface SessionApi {
  session: SessionState;
  signIn(id: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}

const Ctx = createContext<SessionApi | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<SessionState>({ status: 'loading' });

  useEffect(() => {
    let live = true;
    api<SessionInfo>('GET', '/api/me').then(
      (me) => {
        if (!live) return;
        setCsrfToken(me.csrfToken);
        setSession({ status: 'signedIn', user: me.user });
      },
      (err: unknown) => {
        if (!live) return;
        const error = err instanceof ApiError && err.status !== 401 ? err : undefined;
        setSession({ status: 'signedOut', ...(error ? { error } : {}) });
      },
    );
    const off = onUnauthorized(() => {
      setCsrfToken(undefined);
      setSession((s) =>
        s.status === 'signedIn' ? { status: 'signedOut', expired: true, previous: s.user } : s,
      );
    });
    return () => {
      live = false;
      off();
    };
  }, []);

  const signIn = useCallback(async (id: string, password: string) => {
    const r = await api<SessionInfo>('POST', '/api/session', { id, password });
    setCsrfToken(r.csrfToken);
    // Another user may see other things: forget what the previous one loaded.
    setSession((s) => {
      if (s.status !== 'signedOut' || s.previous?.id !== r.user.id) clearCache();
      return s;
    });
    setSession({ status: 'signedIn', user: r.user });
  }, []);

  const signOut = useCallback(async () => {
    try {
      await api('DELETE', '/api/session');
    } catch {
      // signed out on this side regardless
    }
    setCsrfToken(undefined);
    clearCache();
    setSession({ status: 'signedOut' });
  }, []);

  const value = useMemo(() => ({ session, signIn, signOut }), [session, signIn, signOut]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): SessionApi {
  const v = useContext(Ctx);
  if (!v) throw new Error('useSession outside <SessionProvider>');
  return v;
}

/** The signed-in user (inside the shell; while signing in again, the user whose session ended). */
export function useUser(): User {
  const { session } = useSession();
  if (session.status === 'signedIn') return session.user;
  if (session.status === 'signedOut' && session.previous) return session.previous;
  throw new Error('useUser while signed out');
}
