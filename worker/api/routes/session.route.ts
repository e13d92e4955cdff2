/**
 * Signing in and out with a password, signing out everywhere, who I am, and how to sign in. A
 * password sign-in is admitted by the budgets of `sign-in-limits.ts` (counted before hashing) and
 * verified on the hashing threads (`hash-pool.ts`), never on the serving thread.
 */
import type { IncomingMessage } from 'node:http';
import { isRecordsError } from '../../records/errors.ts';
import type { User } from '../../records/types.ts';
import { auditFailedSignIn, auditSignIn, auditSignOut, type AuditOrigin } from '../audit-events.ts';
import type { ApiContext } from '../context.ts';
import { HashPoolBusy } from '../hash-pool.ts';
import { ApiProblem, sendEmpty, sendJson } from '../http.ts';
import { defineRoute, objectSchema } from '../route.ts';
import { isRefusal } from '../sign-in-limits.ts';
import { sessionCookie, userView } from '../sessions.ts';

/** Who asked, for the audit records of this request. */
export function originOf(app: ApiContext, req: IncomingMessage, ip: string): AuditOrigin {
  const ua = req.headers['user-agent'];
  return { store: app.store, ip, ...(ua ? { userAgent: ua } : {}) };
}

const tooMany = (retryAfter: number, why: string): ApiProblem =>
  new ApiProblem(
    429,
    'TOO_MANY_ATTEMPTS',
    `${why}; try again in ${retryAfter} s`,
    {},
    { 'retry-after': String(retryAfter) },
  );

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
  problems: {
    401: 'BAD_CREDENTIALS',
    429: 'TOO_MANY_ATTEMPTS (a sign-in budget is spent, or too many sign-ins at once; with Retry-After)',
  },
  async handle({ body, ip, req, res, secure }, app) {
    const attempt = app.limits.admit(body.id, ip);
    if (isRefusal(attempt)) throw tooMany(attempt.retryAfter, 'too many failed sign-ins');
    let user: User | undefined;
    try {
      user = await app.store.checkPassword(body.id, body.password, app.hashPool);
    } catch (err) {
      if (err instanceof HashPoolBusy) {
        attempt.withdrawn();
        throw tooMany(1, 'too many sign-ins at once');
      }
      if (!isRecordsError(err)) {
        attempt.failed();
        throw err;
      }
    }
    const origin = originOf(app, req, ip);
    if (!user) {
      attempt.failed();
      await auditFailedSignIn(origin, body.id, 'bad_credentials', 'password');
      throw new ApiProblem(401, 'BAD_CREDENTIALS', 'unknown user or wrong password');
    }
    attempt.succeeded();
    await auditSignIn(origin, user.id, 'password');
    const ttl = app.sessionTtlMs;
    const session = await app.store.createSession(user.id, ttl);
    sendJson(
      res,
      201,
      { user: userView(user), csrfToken: session.csrfToken, expiresAt: session.expiresAt },
      { 'set-cookie': sessionCookie(session.id, Math.floor(ttl / 1000), secure) },
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
  async handle({ ip, req, res, secure, session }, app) {
    await app.store.deleteSession(session.sessionId);
    await auditSignOut(originOf(app, req, ip), session.user.id, 'user');
    sendEmpty(res, 204, { 'set-cookie': sessionCookie('', 0, secure) });
  },
});

const signOutEverywhere = defineRoute({
  method: 'POST',
  path: '/api/session/revoke-all',
  summary: 'Sign out everywhere: end every session of the signed-in user (this one too)',
  auth: 'user',
  responses: {
    200: {
      description: 'How many sessions were ended',
      schema: { type: 'object', properties: { ended: { type: 'integer' } } },
    },
  },
  async handle({ ip, req, res, secure, session }, app) {
    const ended = await app.store.deleteSessionsOf(session.user.id);
    await auditSignOut(originOf(app, req, ip), session.user.id, 'revoked', ended);
    sendJson(res, 200, { ended }, { 'set-cookie': sessionCookie('', 0, secure) });
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

export const sessionRoutes = [signIn, signInMethods, signOut, signOutEverywhere, me];
