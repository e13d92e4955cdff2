/**
 * The user directory for administrators: list, create, change (display name, roles, clients,
 * enabled), password-reset links, and the roles users may hold; plus every signed-in user's map
 * of ids to display names. Every change is audited by the records store with the values before
 * and after; a refusal changes nothing.
 */
import { randomBytes } from 'node:crypto';
import { canonicalUserId } from '../../records/identity.ts';
import type { UserPatch } from '../../records/types.ts';
import { allClientRoles } from '../../roles.ts';
import { sendJson } from '../http.ts';
import { defineRoute, objectSchema } from '../route.ts';
import { checkRoles, directory, DIRECTORY_PROBLEMS, directoryView, rolesOf } from './people.ts';

const USER_ID = { type: 'string', minLength: 1, maxLength: 64 };
const ROLE_LIST = {
  type: 'array',
  items: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' },
  minItems: 1,
  maxItems: 50,
};
const CLIENT_LIST = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 128 }, maxItems: 500 };
const DISPLAY_NAME = { type: 'string', minLength: 1, maxLength: 200 };
const LINK = {
  type: 'object',
  properties: { path: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } },
};

/** Where the UI sets a password with a token (in the fragment: never sent to a server, never logged). */
const resetPath = (token: string): string => `/password-reset#${token}`;

const list = defineRoute({
  method: 'GET',
  path: '/api/users',
  summary: 'Every user of the directory, and which roles see every client',
  auth: 'admin',
  action: 'listing users',
  responses: { 200: { description: '{users, allClientRoles}' } },
  async handle({ res }, app) {
    const users = await app.store.listUsers();
    sendJson(res, 200, { users: users.map(directoryView), allClientRoles: [...allClientRoles()] });
  },
});

const names = defineRoute({
  method: 'GET',
  path: '/api/users/names',
  summary:
    'Display names by user id (every user, for showing names where ids are recorded; nothing else about them)',
  auth: 'user',
  responses: { 200: { description: '{names: {id: displayName}}' } },
  async handle({ res }, app) {
    const users = await app.store.listUsers();
    sendJson(res, 200, { names: Object.fromEntries(users.map((u) => [u.id, u.displayName])) });
  },
});

const create = defineRoute({
  method: 'POST',
  path: '/api/users',
  summary: 'Create a user; the answer carries a one-time link where the user sets a password',
  auth: 'admin',
  action: 'creating users',
  body: objectSchema<{ id: string; displayName: string; roles: string[]; clients?: string[] }>(
    { id: USER_ID, displayName: DISPLAY_NAME, roles: ROLE_LIST, clients: CLIENT_LIST },
    ['id', 'displayName', 'roles'],
  ),
  responses: { 201: { description: '{user, passwordLink: {path, expiresAt}}' } },
  problems: DIRECTORY_PROBLEMS,
  async handle({ body, session, res }, app) {
    const known = await rolesOf(app);
    checkRoles(body.roles, known);
    const by = session.user.id;
    const user = await directory(() =>
      app.store.createUser(
        {
          ...body,
          // Nobody knows it: the user chooses a password through the link.
          password: randomBytes(32).toString('base64url'),
        },
        by,
        known,
      ),
    );
    const link = await directory(() => app.store.issuePasswordReset(user.id, by));
    sendJson(res, 201, {
      user: directoryView(user),
      passwordLink: { path: resetPath(link.token), expiresAt: link.expiresAt },
    });
  },
});

const update = defineRoute({
  method: 'PATCH',
  path: '/api/users/:id',
  summary: 'Change a user: display name, roles, clients, disabled (one audited change)',
  auth: 'admin',
  action: 'changing users',
  params: { id: USER_ID },
  body: objectSchema<UserPatch>({
    displayName: DISPLAY_NAME,
    roles: ROLE_LIST,
    clients: CLIENT_LIST,
    disabled: { type: 'boolean' },
  }),
  responses: { 200: { description: 'The user after the change' } },
  problems: DIRECTORY_PROBLEMS,
  async handle({ params, body, session, res }, app) {
    const known = await rolesOf(app);
    if (body.roles) checkRoles(body.roles, known);
    const id = canonicalUserId(params.id ?? '');
    const user = await directory(() => app.store.updateUser(id, body, session.user.id, known));
    sendJson(res, 200, directoryView(user));
  },
});

const resetLink = defineRoute({
  method: 'POST',
  path: '/api/users/:id/password-reset',
  summary: 'A one-time link (24 h) where the user sets a new password; the administrator never sees it',
  auth: 'admin',
  action: 'issuing password-reset links',
  params: { id: USER_ID },
  responses: { 201: { description: '{path, expiresAt}', schema: LINK } },
  problems: { 404: 'UNKNOWN_USER', 422: 'INVALID_INPUT (disabled user)' },
  async handle({ params, session, res }, app) {
    const link = await directory(() => app.store.issuePasswordReset(params.id ?? '', session.user.id));
    sendJson(res, 201, { path: resetPath(link.token), expiresAt: link.expiresAt });
  },
});

const roles = defineRoute({
  method: 'GET',
  path: '/api/roles',
  summary: 'The roles users may hold (engine roles and those the definitions declare), with titles',
  auth: 'admin',
  action: 'listing roles',
  responses: {
    200: { description: '{roles: [{id, title, description?, engine, procedures, seesAllClients}]}' },
  },
  async handle({ res }, app) {
    const allClient = allClientRoles();
    const known = await rolesOf(app);
    sendJson(res, 200, {
      roles: [...known.values()].map((r) => ({ ...r, seesAllClients: allClient.has(r.id) })),
      allClientRoles: [...allClient],
    });
  },
});

export const userRoutes = [list, names, create, update, resetLink, roles];
