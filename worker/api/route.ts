/**
 * An API route is one declaration: method, path, who may call it, its query and body schemas,
 * what it answers, and its handler. The router (`router.ts`) validates every request from it and
 * the OpenAPI document (`openapi.ts`) is generated from it, so the two cannot drift.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Permission } from '../access.ts';
import type { User } from '../records/types.ts';
import type { ApiContext } from './context.ts';

/** A JSON Schema (one property of a query or body); annotations such as `description` allowed. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** An object schema with no unknown fields, and the TypeScript type it validates to. */
export interface ObjectSchema<T> {
  readonly json: {
    type: 'object';
    properties: Record<string, JsonSchema>;
    required?: string[];
    additionalProperties: false;
  };
  /** Phantom: carries `T` to the handler. */
  readonly validates?: T;
}

/** An object of these properties (`required` among them), refusing any other field. */
export function objectSchema<T>(
  properties: Record<keyof T & string, JsonSchema>,
  required: readonly (keyof T & string)[] = [],
): ObjectSchema<T> {
  return {
    json: {
      type: 'object',
      properties,
      ...(required.length ? { required: [...required] } : {}),
      additionalProperties: false,
    },
  };
}

/**
 * Who may call a route: anyone (`public`), any signed-in user (`user`), or a signed-in user holding
 * a permission (`access.ts`). Signed-in routes other than GET/HEAD also need the CSRF header.
 */
export type Caller = 'public' | 'user' | Permission;

/** The signed-in caller of a route that is not public. */
export interface Session {
  user: User;
  sessionId: string;
  csrfToken: string;
  expiresAt: string;
}

/** What a handler gets: the exchange, the validated query and body, and the session. */
export interface RouteRequest<Q, B, S> {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Path parameters, percent-decoded. */
  params: Record<string, string>;
  /** The client's address (`network.ts`: forwarding headers only from a trusted proxy). */
  ip: string;
  /** Served over TLS (directly or at a trusted TLS proxy) or configured so: cookies are `Secure`. */
  secure: boolean;
  query: Q;
  body: B;
  session: S;
}

/** One documented answer: a description and, when JSON, its schema (other media types by name). */
export interface ResponseDoc {
  description: string;
  schema?: JsonSchema;
  /** Further media types and their schemas, e.g. `{ 'text/csv': { type: 'string' } }`. */
  alsoAs?: Record<string, JsonSchema>;
}

export interface RouteSpec<Q, B, A extends Caller> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** `/api/...` (or a root path such as `/healthz`), parameters as `:name`. */
  path: string;
  summary: string;
  auth: A;
  /** What the route does, for the 403 detail when the caller lacks the permission in `auth`. */
  action?: string;
  /**
   * Path parameters, documented (every `:name` of the path, no other). Not validated by the router:
   * a malformed id names nothing, so handlers answer 404 as for any unknown one.
   */
  params?: Record<string, JsonSchema>;
  /** The query's schema; omitted: no parameters at all; `unchecked`: read by the handler itself. */
  query?: ObjectSchema<Q> | 'unchecked';
  /** The JSON body's schema; omitted: the route reads no body. */
  body?: ObjectSchema<B>;
  /** Successful answers by status. */
  responses: Record<number, ResponseDoc>;
  /**
   * Problems particular to this route, by status (their codes); the router's own (400 for the
   * query or body, 401, 403 CSRF and permission, 413, 415) are added to the document.
   */
  problems?: Record<number, string>;
  handle(r: RouteRequest<Q, B, A extends 'public' ? undefined : Session>, app: ApiContext): Promise<void>;
}

/** A route as the router and the OpenAPI generator see it. */
export type Route = RouteSpec<unknown, unknown, Caller>;

/**
 * Declare a route (the handler's query, body and session types follow from the declaration).
 * `Q` without a query schema is an empty object; `B` without a body schema is undefined.
 */
export function defineRoute<Q = Record<string, never>, B = undefined, A extends Caller = Caller>(
  spec: RouteSpec<Q, B, A>,
): Route {
  return spec as unknown as Route;
}

/** Whether calls need the session's CSRF token: signed-in routes that may change state. */
export function needsCsrf(route: Pick<Route, 'auth' | 'method'>): boolean {
  return route.auth !== 'public' && route.method !== 'GET';
}

/** The permission a route needs beyond signing in, if any. */
export function permissionOf(route: Pick<Route, 'auth'>): Permission | undefined {
  return route.auth === 'public' || route.auth === 'user' ? undefined : route.auth;
}
