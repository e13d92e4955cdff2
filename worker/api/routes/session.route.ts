/** Signing in and out with a password, who I am, and how to sign in. */
import { isRecordsError } from '../../records/errors.ts';
import type { User } from '../../records/types.ts';
import { ApiProblem, sendEmpty, sendJson } from '../http.ts';
import { defineRoute, objectSchema } from '../route.ts';
import { sessionCookie, userView } from '../sessions.ts';

const ME = { $ref: '#/components/schemas/Me' };

const signIn = defineRoute({
  method: 'POST',
  path: '/api/session',
  summary: 'Sign in',
  auth: 'public',
  body: objectSchema<{ id: string; password: string }>(
    {
      id: { type: 'string', minLength: 1, maxLength: 200 },
      password: { type: 'string', minLength: 1, maxLength: 1024 },
    },
    ['id', 'password'],
  ),
  responses: { 201: { description: 'Signed in; the session cookie is set', schema: ME } },
  problems: { 401: 'BAD_CREDENTIALS', 429: 'TOO_MANY_ATTEMPTS (with Retry-After)' },
  async handle({ body, ip, res }, app) {
    const key = `${body.id.toLowerCase()}\u0000${ip}`;
    const wait = app.limiter.blockedFor(key);
    if (wait)
      throw new ApiProblem(
        429,
        'TOO_MANY_ATTEMPTS',
        `too many failed sign-ins; try again in ${wait} s`,
        {},
        { 'retry-after': String(wait) },
      );
    let user: User | undefined;
    try {
      user = await app.store.checkPassword(body.id, body.password);
    } catch (err) {
      if (!isRecordsError(err)) throw err;
    }
    if (!user) {
      app.limiter.fail(key);
      throw new ApiProblem(401, 'BAD_CREDENTIALS', 'unknown user or wrong password');
    }
    app.limiter.succeed(key);
    const ttl = app.sessionTtlMs;
    const session = await app.store.createSession(user.id, ttl);
    sendJson(
      res,
      201,
      { user: userView(user), csrfToken: session.csrfToken, expiresAt: session.expiresAt },
      { 'set-cookie': sessionCookie(session.id, Math.floor(ttl / 1000), app.secureCookies) },
    );
  },
});

const signInMethods = defineRoute({
  method: 'GET',
  path: '/api/auth',
  summary: 'How to sign in (no session needed): {password: true, oidc?: {label, loginUrl}}',
  auth: 'public',
  responses: { 200: { description: 'Sign-in methods' } },
  async handle({ res }, app) {
    sendJson(res, 200, {
      password: true,
      ...(app.sso ? { oidc: { label: app.sso.settings.label, loginUrl: '/api/oidc/login' } } : {}),
    });
  },
});

const signOut = defineRoute({
  method: 'DELETE',
  path: '/api/session',
  summary: 'Sign out',
  auth: 'user',
  responses: { 204: { description: 'Signed out' } },
  async handle({ res, session }, app) {
    await app.store.deleteSession(session.sessionId);
    sendEmpty(res, 204, { 'set-cookie': sessionCookie('', 0, app.secureCookies) });
  },
});

const me = defineRoute({
  method: 'GET',
  path: '/api/me',
  summary: 'The signed-in user and the CSRF token',
  auth: 'user',
  responses: { 200: { description: 'The user', schema: ME } },
  async handle({ res, session }) {
    sendJson(res, 200, {
      user: userView(session.user),
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt,
    });
  },
});

export const sessionRoutes = [signIn, signInMethods, signOut, me];
