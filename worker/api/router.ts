/**
 * Dispatch by the route declarations: match method and path (405 with `Allow` when only the method
 * is wrong), then, in this order, the session (401) and CSRF token (403), the query (400), the
 * permission (403) and the body (413/415/400) — each from the declaration — and only then the
 * handler with the validated values.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PERMISSIONS } from '../access.ts';
import type { ApiContext } from './context.ts';
import {
  ApiProblem,
  bodyValidator,
  parseQuery,
  queryValidator,
  readJsonBody,
  type Validator,
} from './http.ts';
import { needsCsrf, permissionOf, type Route } from './route.ts';
import { clientAddress, isSecureRequest } from './network.ts';
import { authenticate } from './sessions.ts';

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  keys: string[];
  /** Undefined: the query is read by the handler (`unchecked`). */
  query?: Validator<unknown>;
  body?: Validator<unknown>;
}

const NO_QUERY = { type: 'object', additionalProperties: false };

/**
 * The declared route (and path parameters) each request matched, for the server's request timing
 * and log line: metrics are labelled by the route's pattern, never by the raw URL.
 */
export const matchedRoutes = new WeakMap<IncomingMessage, { route: Route; params: Record<string, string> }>();

/** The names of a path's `:name` parameters, in order. */
export function pathKeys(path: string): string[] {
  return [...path.matchAll(/:([a-zA-Z]+)/g)].map((m) => m[1] ?? '');
}

function compile(route: Route): CompiledRoute {
  const keys = pathKeys(route.path);
  const documented = Object.keys(route.params ?? {});
  if (documented.sort().join() !== [...keys].sort().join())
    throw new Error(
      `${route.method} ${route.path}: params must document exactly ${keys.join(', ') || 'none'}`,
    );
  const pattern = new RegExp('^' + route.path.replace(/:([a-zA-Z]+)/g, '([^/]+)') + '$');
  return {
    route,
    pattern,
    keys,
    ...(route.query === 'unchecked'
      ? {}
      : { query: queryValidator(route.query ? route.query.json : NO_QUERY) }),
    ...(route.body ? { body: bodyValidator(route.body.json) } : {}),
  };
}

/**
 * A request handler for these routes; `fallback` answers GETs no route matches (the web UI) and
 * returns whether it did. Throws `ApiProblem`s (and the handlers' own errors) for the caller to map.
 */
export function createRouter(
  routes: readonly Route[],
  app: ApiContext,
  fallback?: (req: IncomingMessage, res: ServerResponse, pathname: string) => boolean,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const compiled = routes.map(compile);
  return async (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      throw new ApiProblem(400, 'BAD_URL', 'malformed request URL');
    }
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const allowed: string[] = [];
    for (const c of compiled) {
      const m = c.pattern.exec(url.pathname);
      if (!m) continue;
      if (c.route.method !== method) {
        allowed.push(c.route.method);
        continue;
      }
      const params: Record<string, string> = {};
      try {
        c.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1] ?? '')));
      } catch {
        throw new ApiProblem(400, 'BAD_URL', 'malformed percent-encoding in the path');
      }
      matchedRoutes.set(req, { route: c.route, params });
      await run(c, app, { req, res, url, params });
      return;
    }
    if (!allowed.length && method === 'GET' && fallback?.(req, res, url.pathname)) return;
    if (allowed.length)
      throw new ApiProblem(
        405,
        'METHOD_NOT_ALLOWED',
        `use ${allowed.join(', ')}`,
        {},
        { allow: allowed.join(', ') },
      );
    throw new ApiProblem(404, 'NOT_FOUND', `no route ${url.pathname}`);
  };
}

async function run(
  c: CompiledRoute,
  app: ApiContext,
  x: { req: IncomingMessage; res: ServerResponse; url: URL; params: Record<string, string> },
): Promise<void> {
  const { route } = c;
  const secure = app.secureCookies || isSecureRequest(x.req, app.trustedProxies);
  const session =
    route.auth === 'public' ? undefined : await authenticate(app.store, x.req, needsCsrf(route), secure);
  const query = c.query ? c.query(parseQuery(x.url.searchParams)) : {};
  const permission = permissionOf(route);
  if (permission && session && !PERMISSIONS[permission].holds(session.user)) {
    const rule = PERMISSIONS[permission];
    throw new ApiProblem(403, rule.code, `${route.action ?? 'this'} is for ${rule.holders}`);
  }
  const body = c.body ? c.body(await readJsonBody(x.req, app.bodyLimit)) : undefined;
  const ip = clientAddress(x.req, app.trustedProxies);
  await route.handle({ ...x, ip, secure, query, body, session }, app);
}
