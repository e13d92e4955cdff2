/** What an instance told whom: `GET /api/instances/{id}/notifications` (the instance page). */
import { sendJson } from '../http.ts';
import { ID, matching } from '../patterns.ts';
import { defineRoute } from '../route.ts';

const sent = defineRoute({
  method: 'GET',
  path: '/api/instances/:id/notifications',
  summary:
    'The notifications an instance sent, in order: the role addressed, both texts, and each user reached with the channel and e-mail status',
  auth: 'user',
  params: { id: matching(ID) },
  responses: {
    200: {
      description:
        '{notifications: [{id, seq, at, to, message: {zh, en}, deliveries: [{userId, channel, status?, read}]}]}',
    },
  },
  problems: { 404: 'NOT_FOUND' },
  async handle({ params, res, session }, app) {
    const workflowId = params.id ?? '';
    await app.accessibleInstance(session.user, workflowId);
    sendJson(res, 200, { notifications: await app.store.sentNotificationsOf(workflowId) });
  },
});

export const instanceNotificationRoutes = [sent];
