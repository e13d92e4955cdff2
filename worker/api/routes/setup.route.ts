/**
 * Token-authenticated routes (no session): creating the first administrator with the setup link
 * `npm start` prints while the directory is empty, and setting a password with a reset link.
 * Rate-limited per address; a refused token counts as a failed attempt.
 */
import { sendJson } from '../http.ts';
import { defineRoute, objectSchema } from '../route.ts';
import { directory, directoryView, limited } from './people.ts';

const TOKEN = { type: 'string', minLength: 1, maxLength: 200 };
const PASSWORD = { type: 'string', minLength: 1, maxLength: 1024 };

const status = defineRoute({
  method: 'GET',
  path: '/api/setup',
  summary: 'Whether the first administrator is still to be created: {pending}',
  auth: 'public',
  responses: { 200: { description: '{pending: boolean}' } },
  async handle({ res }, app) {
    sendJson(res, 200, { pending: await app.store.setupPending() });
  },
});

const setup = defineRoute({
  method: 'POST',
  path: '/api/setup',
  summary: 'Create the first administrator with the one-time setup token',
  auth: 'public',
  body: objectSchema<{ token: string; id: string; displayName: string; password: string }>(
    {
      token: TOKEN,
      id: { type: 'string', minLength: 1, maxLength: 64 },
      displayName: { type: 'string', minLength: 1, maxLength: 200 },
      password: PASSWORD,
    },
    ['token', 'id', 'displayName', 'password'],
  ),
  responses: { 201: { description: 'The administrator (sign in next)' } },
  problems: {
    400: 'TOKEN_INVALID',
    409: 'SETUP_DONE',
    422: 'INVALID_INPUT, WEAK_PASSWORD',
    429: 'TOO_MANY_ATTEMPTS',
  },
  async handle({ body, ip, res }, app) {
    const { token, ...admin } = body;
    const user = await limited(app, 'setup', ip, () =>
      directory(() => app.store.createFirstAdmin(token, admin)),
    );
    sendJson(res, 201, { user: directoryView(user) });
  },
});

const reset = defineRoute({
  method: 'POST',
  path: '/api/password-reset',
  summary: 'Set a new password with a one-time reset token (the user signs in with it next)',
  auth: 'public',
  body: objectSchema<{ token: string; password: string }>({ token: TOKEN, password: PASSWORD }, [
    'token',
    'password',
  ]),
  responses: { 200: { description: '{userId}' } },
  problems: { 400: 'TOKEN_INVALID', 422: 'WEAK_PASSWORD', 429: 'TOO_MANY_ATTEMPTS' },
  async handle({ body, ip, res }, app) {
    const user = await limited(app, 'password-reset', ip, () =>
      directory(() => app.store.resetPassword(body.token, body.password)),
    );
    sendJson(res, 200, { userId: user.id });
  },
});

export const setupRoutes = [status, setup, reset];
