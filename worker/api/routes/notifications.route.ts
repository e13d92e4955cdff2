/**
 * The notification centre: my notifications (newest first, paged by id), read marks, my channel
 * per kind and language; for admins, the e-mails not (yet) sent and why.
 */
import {
  LANGUAGES,
  NOTIFICATION_CHANNELS,
  NOTIFICATION_KINDS,
  type Language,
  type NotificationChannel,
  type NotificationKind,
} from '../../records/notification-types.ts';
import { ApiProblem, sendJson } from '../http.ts';
import { LIMIT } from '../patterns.ts';
import { defineRoute, objectSchema } from '../route.ts';

interface ListQuery {
  unread?: boolean;
  before?: number;
  limit?: number;
}

const list = defineRoute({
  method: 'GET',
  path: '/api/notifications',
  summary:
    'My notifications, newest first: one page (`before` = the previous page’s `next`), with my unread count',
  auth: 'user',
  query: objectSchema<ListQuery>({
    unread: { type: 'boolean', description: 'only unread ones' },
    before: { type: 'integer', minimum: 1, description: 'cursor: notifications older than this id' },
    limit: LIMIT,
  }),
  responses: {
    200: {
      description:
        '{notifications: [{id, workflowId, procedure?, client?, kind, to, message: {zh, en}, at, readAt?, channel, note?}], unread, next?}',
    },
  },
  async handle({ query, res, session }, app) {
    const page = await app.store.notificationsFor(session.user, {
      ...(query.unread ? { unread: true } : {}),
      ...(query.before ? { before: query.before } : {}),
      limit: query.limit ?? 50,
    });
    sendJson(res, 200, page);
  },
});

const read = defineRoute({
  method: 'POST',
  path: '/api/notifications/read',
  summary: 'Mark my notifications read: `{ids}` or `{all: true}` (ids not mine are ignored)',
  auth: 'user',
  body: objectSchema<{ ids?: number[]; all?: true }>({
    ids: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, maxItems: 500 },
    all: { const: true },
  }),
  responses: { 200: { description: '{marked, unread}' } },
  problems: { 400: 'INVALID_BODY' },
  async handle({ body, res, session }, app) {
    if ((body.ids === undefined) === (body.all === undefined))
      throw new ApiProblem(400, 'INVALID_BODY', 'give either ids or all: true');
    const marked = await app.store.markNotificationsRead(
      session.user.id,
      body.all ? { all: true } : { ids: body.ids ?? [] },
    );
    const { unread } = await app.store.notificationsFor(session.user, { limit: 1 });
    sendJson(res, 200, { marked, unread });
  },
});

const outbox = defineRoute({
  method: 'GET',
  path: '/api/notifications/outbox',
  summary: 'E-mails not sent yet: pending, being retried (with the last error) and failed',
  auth: 'admin',
  action: 'reading the e-mail outbox',
  query: objectSchema<{ limit?: number }>({ limit: LIMIT }),
  responses: {
    200: {
      description:
        '{entries: [{notificationId, userId, channel, status, attempts, dueAt, lastAttemptAt?, lastError?, workflowId}]}',
    },
  },
  async handle({ query, res }, app) {
    sendJson(res, 200, { entries: await app.store.unsentOutbox(query.limit ?? 200) });
  },
});

const channel = { enum: [...NOTIFICATION_CHANNELS] };
const preferencesSchema = {
  type: 'object',
  properties: Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, channel])),
  additionalProperties: false,
  description:
    'channel per kind: in_app (the centre only), email (one e-mail each), digest (one e-mail a day)',
};

async function preferencesOf(
  app: Parameters<(typeof list)['handle']>[1],
  userId: string,
): Promise<{ preferences: Record<string, string>; language: Language; email: boolean }> {
  const contact = await app.store.userContact(userId);
  return {
    preferences: await app.store.notificationPreferences(userId),
    language: contact?.language ?? 'zh',
    email: Boolean(contact?.email),
  };
}

const getPreferences = defineRoute({
  method: 'GET',
  path: '/api/me/notification-preferences',
  summary: 'My channel per notification kind, my language, and whether I have an e-mail address',
  auth: 'user',
  responses: { 200: { description: '{preferences: {kind: channel}, language, email: boolean}' } },
  async handle({ res, session }, app) {
    sendJson(res, 200, await preferencesOf(app, session.user.id));
  },
});

const putPreferences = defineRoute({
  method: 'PUT',
  path: '/api/me/notification-preferences',
  summary: 'Set my channel for some kinds and/or my language (of e-mails)',
  auth: 'user',
  body: objectSchema<{
    preferences?: Partial<Record<NotificationKind, NotificationChannel>>;
    language?: Language;
  }>({ preferences: preferencesSchema, language: { enum: [...LANGUAGES] } }),
  responses: { 200: { description: '{preferences, language, email}' } },
  async handle({ body, res, session }, app) {
    const id = session.user.id;
    if (body.preferences) await app.store.setNotificationPreferences(id, body.preferences);
    if (body.language) await app.store.setUserContact(id, { language: body.language }, id);
    sendJson(res, 200, await preferencesOf(app, id));
  },
});

export const notificationRoutes = [list, read, outbox, getPreferences, putPreferences];
