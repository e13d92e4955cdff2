/**
 * Sessions on the wire: the session cookie, who a request's session belongs to (401 without one),
 * the CSRF check for state-changing requests (403), and the user as the API shows it. Over TLS
 * (`network.ts`) the cookie is `Secure` and named `__Host-custodia_session` (no Domain, Path=/:
 * a sibling host or a plain-http page cannot set or overwrite it); only that name is read then.
 */
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { PERMISSIONS, type Permission } from '../access.ts';
import type { RecordsStore, User } from '../records/types.ts';
import { ApiProblem, parseCookies } from './http.ts';
import { OIDC_COOKIE } from './oidc.ts';
import type { Session } from './route.ts';

export const SESSION_COOKIE = 'custodia_session';
/** The session cookie's name when it is `Secure`. */
export const SECURE_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;

/** The session cookie's name for a request served securely or not. */
export function sessionCookieName(secure: boolean): string {
  return secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}
export const CSRF_HEADER = 'x-csrf-token';

/** The `Set-Cookie` value of the session cookie (`maxAge` 0 with an empty value: signed out). */
export function sessionCookie(value: string, maxAge: number, secure: boolean): string {
  return (
    `${sessionCookieName(secure)}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}` +
    (secure ? '; Secure' : '')
  );
}

/** The `Set-Cookie` value of the pending OIDC sign-in (Lax: the provider redirects back cross-site). */
export function oidcCookie(value: string, maxAge: number, secure: boolean): string {
  return (
    `${OIDC_COOKIE}=${value}; Path=/api/oidc; HttpOnly; SameSite=Lax; Max-Age=${maxAge}` +
    (secure ? '; Secure' : '')
  );
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The request's session and its user, or 401; with `csrf`, also the session's CSRF token, or 403. */
export async function authenticate(
  store: RecordsStore,
  req: IncomingMessage,
  csrf: boolean,
  secure = false,
): Promise<Session> {
  const id = parseCookies(req.headers.cookie).get(sessionCookieName(secure));
  const session = id && /^[A-Za-z0-9_-]{16,128}$/.test(id) ? await store.getSession(id) : undefined;
  const user = session ? await store.getUser(session.userId) : undefined;
  if (!session || !user || user.disabled)
    throw new ApiProblem(
      401,
      'UNAUTHENTICATED',
      'sign in first (POST /api/session); the session is absent or expired',
      {},
      { 'www-authenticate': 'Cookie realm="custodia"' },
    );
  if (csrf) {
    const token = req.headers[CSRF_HEADER];
    if (typeof token !== 'string' || !sameSecret(token, session.csrfToken))
      throw new ApiProblem(
        403,
        'CSRF',
        `state-changing requests need the ${CSRF_HEADER} header of the session`,
      );
  }
  return { user, sessionId: session.id, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
}

/** The user as the API shows it. */
export function userView(user: User): Record<string, unknown> {
  // The permissions held, so the UI offers only what the API will allow (e.g. the dashboard).
  const permissions = (Object.keys(PERMISSIONS) as Permission[]).filter((p) => PERMISSIONS[p].holds(user));
  return {
    id: user.id,
    displayName: user.displayName,
    roles: user.roles,
    clients: user.clients,
    permissions,
  };
}
