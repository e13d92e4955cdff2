/** About the API itself. */
import { sendJson } from '../http.ts';
import { defineRoute } from '../route.ts';

const openApi = defineRoute({
  method: 'GET',
  path: '/api/openapi.json',
  summary: 'This document (generated from the route declarations)',
  auth: 'public',
  responses: { 200: { description: 'OpenAPI 3.1' } },
  async handle({ res }, app) {
    sendJson(res, 200, app.openApi());
  },
});

export const metaRoutes = [openApi];
