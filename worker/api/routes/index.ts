/**
 * Every route the API serves, in matching order. A new route: declare it with `defineRoute` in the
 * `*.route.ts` of its concern and list it in that module's export; the router and the OpenAPI
 * document pick it up from here.
 */
import type { Route } from '../route.ts';
import { actorRoutes } from './actors.route.ts';
import { attachmentRoutes } from './attachments.route.ts';
import { auditRoutes } from './audit.route.ts';
import { calendarRoutes } from './calendars.route.ts';
import { dashboardRoutes } from './dashboard.route.ts';
import { definitionRoutes } from './definitions.route.ts';
import { evidenceRoutes } from './evidence.route.ts';
import { healthRoutes } from './health.route.ts';
import { inboxRoutes } from './inbox.route.ts';
import { instanceRoutes } from './instances.route.ts';
import { instanceNotificationRoutes } from './instance-notifications.route.ts';
import { metaRoutes } from './meta.route.ts';
import { migrationRoutes } from './migrations.route.ts';
import { notificationRoutes } from './notifications.route.ts';
import { oidcRoutes } from './oidc.route.ts';
import { recordRoutes } from './records.route.ts';
import { sessionRoutes } from './session.route.ts';
import { setupRoutes } from './setup.route.ts';
import { userRoutes } from './users.route.ts';

export const API_ROUTES: readonly Route[] = [
  ...sessionRoutes,
  ...oidcRoutes,
  ...definitionRoutes,
  ...migrationRoutes,
  ...instanceRoutes,
  ...instanceNotificationRoutes,
  ...attachmentRoutes,
  ...actorRoutes,
  ...inboxRoutes,
  ...auditRoutes,
  ...evidenceRoutes,
  ...recordRoutes,
  ...dashboardRoutes,
  ...notificationRoutes,
  ...calendarRoutes,
  ...metaRoutes,
  ...userRoutes,
  ...setupRoutes,
  ...healthRoutes,
];
