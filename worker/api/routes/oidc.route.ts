/** Sign-in through the OpenID Connect provider (`oidc.ts` runs the flow; these are its two ends). */
import { ApiProblem, parseCookies } from '../http.ts';
import { OIDC_COOKIE, OidcFailure } from '../oidc.ts';
import { defineRoute, objectSchema } from '../route.ts';
import { oidcCookie, sessionCookie } from '../sessions.ts';

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
  async handle({ query, res }, app) {
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
      'set-cookie': oidcCookie(begun.cookie, 600, app.secureCookies),
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
  async handle({ req, res, url }, app) {
    if (!app.sso) throw notConfigured();
    const pending = parseCookies(req.headers.cookie).get(OIDC_COOKIE);
    const clear = oidcCookie('', 0, app.secureCookies);
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
    const user = await app.store.getUser(result.userId);
    if (!user || user.disabled)
      return fail(
        'OIDC_UNKNOWN_USER',
        `"${result.userId}" is not an enabled Custodia user; an administrator creates it (custodia user create … --oidc)`,
        403,
      );
    const ttl = app.sessionTtlMs;
    const session = await app.store.createSession(user.id, ttl);
    res.writeHead(302, {
      location: result.returnTo,
      'set-cookie': [sessionCookie(session.id, Math.floor(ttl / 1000), app.secureCookies), clear],
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    });
    res.end();
  },
});

export const oidcRoutes = [login, callback];
