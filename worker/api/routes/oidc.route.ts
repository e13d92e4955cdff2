/** Sign-in through the OpenID Connect provider (`oidc.ts` runs the flow; these are its two ends). */
import { auditFailedSignIn, auditSignIn } from '../audit-events.ts';
import { ApiProblem, parseCookies } from '../http.ts';
import { isOidcUser } from '../oidc-users.ts';
import { OIDC_COOKIE, OidcFailure, safeReturnTo } from '../oidc.ts';
import { defineRoute, objectSchema } from '../route.ts';
import { oidcCookie, sessionCookie } from '../sessions.ts';
import { originOf } from './session.route.ts';

const notConfigured = (): ApiProblem =>
  new ApiProblem(404, 'OIDC_NOT_CONFIGURED', 'sign-in through an identity provider is not set up');

const login = defineRoute({
  method: 'GET',
  path: '/api/oidc/login',
  summary: 'Begin sign-in at the OpenID Connect provider (302 there); returnTo: a path on this site',
  auth: 'public',
  query: objectSchema<{ returnTo?: string }>({ returnTo: { type: 'string', maxLength: 500 } }),
  responses: { 302: { description: 'To the provider' } },
  problems: { 404: 'OIDC_NOT_CONFIGURED', 503: 'OIDC_PROVIDER_UNREACHABLE' },
  async handle({ query, res, secure }, app) {
    if (!app.sso) throw notConfigured();
    let begun;
    try {
      begun = await app.sso.begin(query.returnTo);
    } catch (err) {
      if (err instanceof OidcFailure)
        throw new ApiProblem(503, err.code, err.message, {}, { 'retry-after': '30' });
      throw err;
    }
    res.writeHead(302, {
      location: begun.url,
      'set-cookie': oidcCookie(begun.cookie, 600, secure),
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    });
    res.end();
  },
});

const callback = defineRoute({
  method: 'GET',
  path: '/api/oidc/callback',
  summary:
    "The provider's redirect back: checks state, code (PKCE) and ID token, signs the directory user in, 302 to returnTo",
  auth: 'public',
  // The provider's parameters (code, state, iss, error, …), checked by the flow.
  query: 'unchecked',
  responses: { 302: { description: 'Signed in (or, with the UI, back to it with ?signinError=CODE)' } },
  problems: {
    401: 'OIDC_STATE_MISMATCH, OIDC_NO_PENDING_SIGNIN, OIDC_TOKEN_REJECTED, OIDC_PROVIDER_ERROR, OIDC_NO_USER_CLAIM',
    403: 'OIDC_UNKNOWN_USER',
    404: 'OIDC_NOT_CONFIGURED',
    503: 'OIDC_PROVIDER_UNREACHABLE',
  },
  async handle({ ip, req, res, secure, url }, app) {
    if (!app.sso) throw notConfigured();
    const pending = parseCookies(req.headers.cookie).get(OIDC_COOKIE);
    const clear = oidcCookie('', 0, secure);
    const fail = (code: string, message: string, status: number): void => {
      // With the UI: back to its sign-in page, which explains the code; without: a problem.
      if (app.ui) {
        res.writeHead(302, {
          location: `/?signinError=${encodeURIComponent(code)}`,
          'set-cookie': clear,
          'cache-control': 'no-store',
        });
        res.end();
        return;
      }
      throw new ApiProblem(status, code, message, {}, { 'set-cookie': clear });
    };
    let result;
    try {
      result = await app.sso.complete(url.searchParams, pending);
    } catch (err) {
      if (!(err instanceof OidcFailure)) throw err;
      return fail(err.code, err.message, err.code === 'OIDC_PROVIDER_UNREACHABLE' ? 503 : 401);
    }
    // Only users enrolled for the provider (oidc-users.ts): a claim never reaches a password or
    // admin account that was not.
    const origin = originOf(app, req, ip);
    const user = await app.store.getUser(result.userId);
    const enrolled = user && !user.disabled && (await isOidcUser(app.store, user.id));
    if (!user || !enrolled) {
      await auditFailedSignIn(origin, result.userId, user ? 'not_oidc_user' : 'unknown_user', 'oidc');
      return fail(
        'OIDC_UNKNOWN_USER',
        `"${result.userId}" is not an enabled Custodia user enrolled for this identity provider; an administrator creates it (custodia user create … --oidc)`,
        403,
      );
    }
    // The location is checked before the session exists (a cookie of an older version may hold any path).
    const location = safeReturnTo(result.returnTo);
    await auditSignIn(origin, user.id, 'oidc');
    const ttl = app.sessionTtlMs;
    const session = await app.store.createSession(user.id, ttl);
    res.writeHead(302, {
      location,
      'set-cookie': [sessionCookie(session.id, Math.floor(ttl / 1000), secure), clear],
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    });
    res.end();
  },
});

export const oidcRoutes = [login, callback];
