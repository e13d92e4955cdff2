/**
 * The HTTP API (`/api`, JSON): sessions, definitions, instances (start, list via Temporal
 * visibility, snapshot, events), the inbox and the audit trail. Plain `node:http` with a small
 * router; every body and query validated (unknown fields rejected), every error an
 * `application/problem+json` answer. Who acts is always the signed-in user; staff whose roles are
 * not quality_manager / general_manager see and act on their assigned clients only (4.4.2, 4.2.3).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import {
  isGrpcDeadlineError,
  isGrpcServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { WORKFLOW_TYPE } from '../../workflows/api.ts';
import { compileSchemas, formatProblems } from '../../workflows/core/schemas.ts';
import type { Json } from '../../workflows/core/ir.ts';
import { CustodiaClient } from '../../workflows/search-attributes.ts';
import { invariantDiagnostics, type LoadedDefinition } from '../definitions.ts';
import { EventRejected, getSnapshot, sendEvent, startProcedure } from '../instances.ts';
import { isRecordsError } from '../records/errors.ts';
import { auditToCsv } from '../records/export.ts';
import { ALL_CLIENT_ROLES, type AuditEntry, type RecordsStore, type User } from '../records/types.ts';
import {
  BadPageToken,
  buildListQuery,
  countByProcedureAndState,
  earliestBy,
  listPage,
} from '../visibility.ts';
import { hashProcedure } from '../../workflows/core/hash.ts';
import { parseDuration } from '../../workflows/core/duration.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import {
  ApiProblem,
  bodyValidator,
  discardBody,
  parseCookies,
  parseQuery,
  queryValidator,
  readJsonBody,
  sendEmpty,
  sendJson,
  sendProblem,
  sendText,
} from './http.ts';
import { openApiDocument } from './openapi.ts';
import { uiFiles } from './static.ts';
import { OIDC_COOKIE, OidcFailure, oidcFlow, type OidcSettings } from './oidc.ts';
import { DeployRefused, deployDefinitionText } from '../deploy.ts';
import type { Clause } from '../../workflows/core/clauses.ts';

export const SESSION_COOKIE = 'custodia_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface ApiOptions {
  client: Client;
  store: RecordsStore;
  /** The definitions instances may be started from, by procedure id. */
  definitions: Map<string, LoadedDefinition>;
  taskQueue: string;
  /** Add `Secure` to the session cookie (serve over HTTPS). Default false. */
  secureCookies?: boolean;
  /** Session lifetime in ms (default 8 h). */
  sessionTtlMs?: number;
  /** Largest request body in bytes (default 256 KiB). */
  bodyLimit?: number;
  /** Failed logins per user + address within `loginWindowMs` before 429 (default 5 per 15 min). */
  loginFailures?: number;
  loginWindowMs?: number;
  /** Inbox tasks read per request before sorting by due time (default 2000; tests lower it). */
  inboxScan?: number;
  /** Unexpected (5xx) errors are reported here (default console.error). */
  onError?: (err: unknown, req: IncomingMessage | undefined) => void;
  /** Serve the built web UI from this folder (`ui/dist`) at `/`; without it only `/api` answers. */
  uiDir?: string;
  /** The procedure's clauses (zh + en) for `GET /api/clauses`; default none. */
  clauses?: readonly Clause[];
  /** Offer sign-in through an OpenID Connect provider as well as passwords. */
  oidc?: OidcSettings;
  /** Told after a new version was deployed through the API (e.g. to sync its schedule). */
  onDeployed?: (def: LoadedDefinition) => void | Promise<void>;
}

export interface Api {
  server: Server;
  /** Listen (port 0: any free port); resolves with the URL, e.g. `http://127.0.0.1:8080`. */
  listen(port: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  ip: string;
}

interface Authed extends Ctx {
  user: User;
  sessionId: string;
  csrfToken: string;
  expiresAt: string;
}

type Handler = (ctx: Ctx) => Promise<void>;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

const ID = '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$';
const EVENT = '^[A-Za-z][A-Za-z0-9_.-]{0,99}$';
const KEYWORD = "^[^'\\\\\\n\\r]{1,200}$";
/** Overdue (and other) inbox tasks read per request before sorting by due time. */
const INBOX_SCAN_DEFAULT = 2000;
/** Temporal's visibility page token, base64url. */
const PAGE_TOKEN = '^[A-Za-z0-9_-]{1,8192}$';

const validateLogin = bodyValidator<{ id: string; password: string }>({
  type: 'object',
  required: ['id', 'password'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 200 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
  additionalProperties: false,
});

const validateStart = bodyValidator<{ procedure: string; input?: Record<string, Json> }>({
  type: 'object',
  required: ['procedure'],
  properties: {
    procedure: { type: 'string', pattern: ID },
    input: { type: 'object' },
  },
  additionalProperties: false,
});

const validateEvent = bodyValidator<{ type: string; data?: Record<string, Json> }>({
  type: 'object',
  required: ['type'],
  properties: {
    type: { type: 'string', pattern: EVENT },
    data: { type: 'object' },
  },
  additionalProperties: false,
});

interface ListQuery {
  procedure?: string;
  version?: string;
  state?: string;
  client?: string;
  awaiting?: string;
  overdue?: boolean;
  all?: boolean;
  limit?: number;
  pageToken?: string;
}

const validateList = queryValidator<ListQuery>({
  type: 'object',
  properties: {
    procedure: { type: 'string', pattern: KEYWORD },
    version: { type: 'string', pattern: KEYWORD },
    state: { type: 'string', pattern: KEYWORD },
    client: { type: 'string', pattern: KEYWORD },
    awaiting: { type: 'string', pattern: KEYWORD },
    overdue: { type: 'boolean' },
    all: { type: 'boolean' },
    limit: { type: 'integer', minimum: 1, maximum: 500 },
    pageToken: { type: 'string', pattern: PAGE_TOKEN },
  },
  additionalProperties: false,
});

const validateInboxQuery = queryValidator<{ limit?: number }>({
  type: 'object',
  properties: { limit: { type: 'integer', minimum: 1, maximum: 500 } },
  additionalProperties: false,
});

const validateAuditQuery = queryValidator<{ workflowId?: string; client?: string; format?: 'json' | 'csv' }>({
  type: 'object',
  properties: {
    workflowId: { type: 'string', pattern: ID },
    client: { type: 'string', pattern: KEYWORD },
    format: { enum: ['json', 'csv'] },
  },
  additionalProperties: false,
});

const validateDraft = bodyValidator<{ yaml: string; file?: string }>({
  type: 'object',
  required: ['yaml'],
  properties: {
    yaml: { type: 'string', maxLength: 200_000 },
    file: { type: 'string', pattern: '^[A-Za-z0-9._/-]{1,200}$' },
  },
  additionalProperties: false,
});

interface StalledQuery {
  idle?: string;
  procedure?: string;
  state?: string;
  limit?: number;
  pageToken?: string;
}

const validateStalledQuery = queryValidator<StalledQuery>({
  type: 'object',
  properties: {
    idle: { type: 'string', pattern: '^P[0-9A-Z.]{1,30}$' },
    procedure: { type: 'string', pattern: KEYWORD },
    state: { type: 'string', pattern: KEYWORD },
    limit: { type: 'integer', minimum: 1, maximum: 500 },
    pageToken: { type: 'string', pattern: PAGE_TOKEN },
  },
  additionalProperties: false,
});

const validateStalledCountsQuery = queryValidator<{ idle?: string }>({
  type: 'object',
  properties: { idle: { type: 'string', pattern: '^P[0-9A-Z.]{1,30}$' } },
  additionalProperties: false,
});

const validateDefinitionQuery = queryValidator<{ version?: string }>({
  type: 'object',
  properties: { version: { type: 'string', pattern: '^[0-9A-Za-z.+-]{1,64}$' } },
  additionalProperties: false,
});

const validateOidcLogin = queryValidator<{ returnTo?: string }>({
  type: 'object',
  properties: { returnTo: { type: 'string', maxLength: 500 } },
  additionalProperties: false,
});

const validateNoQuery = queryValidator<Record<string, never>>({
  type: 'object',
  additionalProperties: false,
});

/** Engine rejection codes → HTTP status. */
const REJECTION_STATUS: Record<string, number> = {
  ROLE_NOT_ALLOWED: 403,
  DUTY_CONFLICT: 403,
  INVALID_DATA: 422,
  UNKNOWN_EVENT: 422,
  BAD_ACTOR: 422,
  CANNOT_TAKE: 409,
  GUARD_FALSE: 409,
  INSTANCE_FINISHED: 409,
};

function quote(value: string): string {
  if (/['\\\n\r]/.test(value)) throw new ApiProblem(400, 'INVALID_QUERY', 'values may not contain quotes');
  return `'${value}'`;
}

function seesAllClients(user: User): boolean {
  return user.roles.some((r) => ALL_CLIENT_ROLES.includes(r));
}

/** The visibility clause limiting a user to their clients (instances without a client are shared). */
function isolationClause(user: User): string | undefined {
  if (seesAllClients(user)) return undefined;
  if (!user.clients.length) return 'CustodiaClient IS NULL';
  return `(CustodiaClient IN (${user.clients.map(quote).join(', ')}) OR CustodiaClient IS NULL)`;
}

function mayAccessClient(user: User, client: string | undefined): boolean {
  return client === undefined || seesAllClients(user) || user.clients.includes(client);
}

function userView(user: User): Record<string, unknown> {
  return { id: user.id, displayName: user.displayName, roles: user.roles, clients: user.clients };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Failed logins per key within a sliding window. */
class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}
  private recent(key: string, now: number): number[] {
    const list = (this.failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length) this.failures.set(key, list);
    else this.failures.delete(key);
    return list;
  }
  /** Seconds until another attempt is allowed, or 0. */
  blockedFor(key: string, now = Date.now()): number {
    const list = this.recent(key, now);
    if (list.length < this.max) return 0;
    const oldest = list[list.length - this.max] ?? now;
    return Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
  }
  fail(key: string, now = Date.now()): void {
    if (this.failures.size > 10_000)
      for (const k of [...this.failures.keys()]) if (!this.recent(k, now).length) this.failures.delete(k);
    this.failures.set(key, [...this.recent(key, now), now]);
  }
  succeed(key: string): void {
    this.failures.delete(key);
  }
}

/** Temporal out of reach (unavailable, timed out): a 503 rather than a 500. */
function unavailable(err: unknown): boolean {
  if (isGrpcDeadlineError(err)) return true;
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e instanceof Error && !seen.has(e)) {
    seen.add(e);
    if (e instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
    const grpc: unknown = e;
    // DEADLINE_EXCEEDED, UNAVAILABLE
    if (isGrpcServiceError(grpc) && (grpc.code === 4 || grpc.code === 14)) return true;
    e = e.cause;
  }
  return false;
}

export function createApi(opts: ApiOptions): Api {
  const { client, store, definitions, taskQueue } = opts;
  const ttl = opts.sessionTtlMs ?? 8 * 3600_000;
  const bodyLimit = opts.bodyLimit ?? 256 * 1024;
  const limiter = new LoginLimiter(opts.loginFailures ?? 5, opts.loginWindowMs ?? 15 * 60_000);
  const onError = opts.onError ?? ((err: unknown) => console.error('custodia api: unexpected error', err));
  const schemas = new Map<string, ReturnType<typeof compileSchemas>>();
  const schemasOf = (def: LoadedDefinition): ReturnType<typeof compileSchemas> => {
    let s = schemas.get(def.hash);
    if (!s) schemas.set(def.hash, (s = compileSchemas(def.ir)));
    return s;
  };

  const INBOX_SCAN = opts.inboxScan ?? INBOX_SCAN_DEFAULT;
  const ui = opts.uiDir ? uiFiles(opts.uiDir) : undefined;
  const sso = opts.oidc ? oidcFlow(opts.oidc) : undefined;
  const routes: Route[] = [];
  const route = (method: string, path: string, handler: Handler): void => {
    const keys: string[] = [];
    const pattern = new RegExp(
      '^' +
        path.replace(/:([a-zA-Z]+)/g, (_, k: string) => {
          keys.push(k);
          return '([^/]+)';
        }) +
        '$',
    );
    routes.push({ method, pattern, keys, handler });
  };

  const cookie = (value: string, maxAge: number): string =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}` +
    (opts.secureCookies ? '; Secure' : '');

  /** The session's user, or 401; for state-changing methods also the CSRF token, or 403. */
  const authenticate = async (ctx: Ctx): Promise<Authed> => {
    const id = parseCookies(ctx.req.headers.cookie).get(SESSION_COOKIE);
    const session = id && /^[A-Za-z0-9_-]{16,128}$/.test(id) ? await store.getSession(id) : undefined;
    const user = session ? await store.getUser(session.userId) : undefined;
    if (!session || !user || user.disabled)
      throw new ApiProblem(
        401,
        'UNAUTHENTICATED',
        'sign in first (POST /api/session); the session is absent or expired',
        {},
        {
          'www-authenticate': 'Cookie realm="custodia"',
        },
      );
    if (!['GET', 'HEAD'].includes(ctx.req.method ?? 'GET')) {
      const token = ctx.req.headers[CSRF_HEADER];
      if (typeof token !== 'string' || !sameSecret(token, session.csrfToken))
        throw new ApiProblem(
          403,
          'CSRF',
          `state-changing requests need the ${CSRF_HEADER} header of the session`,
        );
    }
    return {
      ...ctx,
      user,
      sessionId: session.id,
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt,
    };
  };

  const authed = (handler: (ctx: Authed) => Promise<void>): Handler => {
    return async (ctx) => handler(await authenticate(ctx));
  };

  const definitionOf = (id: string): LoadedDefinition => {
    const def = definitions.get(id);
    if (!def) throw new ApiProblem(404, 'UNKNOWN_PROCEDURE', `no procedure "${id}"`);
    return def;
  };

  /**
   * The instance if it is a Custodia instance this user may see; 404 otherwise (also for other
   * clients' instances, so their existence is not revealed).
   */
  const accessibleInstance = async (
    user: User,
    workflowId: string,
  ): Promise<{ client?: string; running: boolean }> => {
    const notFound = new ApiProblem(404, 'NOT_FOUND', `no instance "${workflowId}"`);
    if (!new RegExp(ID).test(workflowId)) throw notFound;
    let desc;
    try {
      desc = await client.workflow.getHandle(workflowId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound;
      throw err;
    }
    if (desc.type !== WORKFLOW_TYPE) throw notFound;
    const c = desc.typedSearchAttributes.get(CustodiaClient);
    if (!mayAccessClient(user, c)) throw notFound;
    return { ...(c !== undefined ? { client: c } : {}), running: desc.status.name === 'RUNNING' };
  };

  /** One visibility page; a token Temporal does not accept is the caller's mistake (400). */
  const pageOf = async (query: string, limit: number, token: string | undefined, now = new Date()) => {
    try {
      return await listPage(client, query, limit, token, now);
    } catch (err) {
      // Refused before asking Temporal, or answered INVALID_ARGUMENT / UNKNOWN by its frontend.
      if (
        err instanceof BadPageToken ||
        (token && isGrpcServiceError(err) && (err.code === 3 || err.code === 2))
      )
        throw new ApiProblem(
          400,
          'INVALID_PAGE_TOKEN',
          'pageToken is not one this list gave out; start from the first page',
        );
      throw err;
    }
  };

  // --- sessions -------------------------------------------------------------------------------

  route('POST', '/api/session', async (ctx) => {
    validateNoQuery(parseQuery(ctx.url.searchParams));
    const body = validateLogin(await readJsonBody(ctx.req, bodyLimit));
    const key = `${body.id.toLowerCase()}\u0000${ctx.ip}`;
    const wait = limiter.blockedFor(key);
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
      user = await store.checkPassword(body.id, body.password);
    } catch (err) {
      if (!isRecordsError(err)) throw err;
    }
    if (!user) {
      limiter.fail(key);
      throw new ApiProblem(401, 'BAD_CREDENTIALS', 'unknown user or wrong password');
    }
    limiter.succeed(key);
    const session = await store.createSession(user.id, ttl);
    sendJson(
      ctx.res,
      201,
      { user: userView(user), csrfToken: session.csrfToken, expiresAt: session.expiresAt },
      { 'set-cookie': cookie(session.id, Math.floor(ttl / 1000)) },
    );
  });

  route('GET', '/api/auth', async (ctx) => {
    validateNoQuery(parseQuery(ctx.url.searchParams));
    sendJson(ctx.res, 200, {
      password: true,
      ...(sso ? { oidc: { label: sso.settings.label, loginUrl: '/api/oidc/login' } } : {}),
    });
  });

  const oidcCookie = (value: string, maxAge: number): string =>
    `${OIDC_COOKIE}=${value}; Path=/api/oidc; HttpOnly; SameSite=Lax; Max-Age=${maxAge}` +
    (opts.secureCookies ? '; Secure' : '');

  route('GET', '/api/oidc/login', async (ctx) => {
    const q = validateOidcLogin(parseQuery(ctx.url.searchParams));
    if (!sso)
      throw new ApiProblem(404, 'OIDC_NOT_CONFIGURED', 'sign-in through an identity provider is not set up');
    let begun;
    try {
      begun = await sso.begin(q.returnTo);
    } catch (err) {
      if (err instanceof OidcFailure)
        throw new ApiProblem(503, err.code, err.message, {}, { 'retry-after': '30' });
      throw err;
    }
    ctx.res.writeHead(302, {
      location: begun.url,
      'set-cookie': oidcCookie(begun.cookie, 600),
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    });
    ctx.res.end();
  });

  route('GET', '/api/oidc/callback', async (ctx) => {
    if (!sso)
      throw new ApiProblem(404, 'OIDC_NOT_CONFIGURED', 'sign-in through an identity provider is not set up');
    const pending = parseCookies(ctx.req.headers.cookie).get(OIDC_COOKIE);
    const fail = (code: string, message: string, status: number): void => {
      // With the UI: back to its sign-in page, which explains the code; without: a problem.
      if (ui) {
        ctx.res.writeHead(302, {
          location: `/?signinError=${encodeURIComponent(code)}`,
          'set-cookie': oidcCookie('', 0),
          'cache-control': 'no-store',
        });
        ctx.res.end();
        return;
      }
      throw new ApiProblem(status, code, message, {}, { 'set-cookie': oidcCookie('', 0) });
    };
    let result;
    try {
      result = await sso.complete(ctx.url.searchParams, pending);
    } catch (err) {
      if (!(err instanceof OidcFailure)) throw err;
      return fail(err.code, err.message, err.code === 'OIDC_PROVIDER_UNREACHABLE' ? 503 : 401);
    }
    const user = await store.getUser(result.userId);
    if (!user || user.disabled)
      return fail(
        'OIDC_UNKNOWN_USER',
        `"${result.userId}" is not an enabled Custodia user; an administrator creates it (custodia user create … --oidc)`,
        403,
      );
    const session = await store.createSession(user.id, ttl);
    ctx.res.writeHead(302, {
      location: result.returnTo,
      'set-cookie': [cookie(session.id, Math.floor(ttl / 1000)), oidcCookie('', 0)],
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    });
    ctx.res.end();
  });

  route(
    'DELETE',
    '/api/session',
    authed(async (ctx) => {
      validateNoQuery(parseQuery(ctx.url.searchParams));
      await store.deleteSession(ctx.sessionId);
      sendEmpty(ctx.res, 204, { 'set-cookie': cookie('', 0) });
    }),
  );

  route(
    'GET',
    '/api/me',
    authed(async (ctx) => {
      validateNoQuery(parseQuery(ctx.url.searchParams));
      sendJson(ctx.res, 200, {
        user: userView(ctx.user),
        csrfToken: ctx.csrfToken,
        expiresAt: ctx.expiresAt,
      });
    }),
  );

  // --- definitions ----------------------------------------------------------------------------

  const summary = (def: LoadedDefinition): Record<string, unknown> => ({
    id: def.ir.id,
    version: def.ir.version,
    hash: def.hash,
    title: def.ir.title,
    description: def.ir.description,
    roles: def.ir.roles,
    ...(def.ir.clientField ? { clientField: def.ir.clientField } : {}),
    events: Object.keys(def.ir.events),
  });

  route(
    'GET',
    '/api/definitions',
    authed(async (ctx) => {
      validateNoQuery(parseQuery(ctx.url.searchParams));
      const out = [...definitions.values()].sort((a, b) => a.ir.id.localeCompare(b.ir.id)).map(summary);
      sendJson(ctx.res, 200, { definitions: out });
    }),
  );

  route(
    'GET',
    '/api/definitions/:id',
    authed(async (ctx) => {
      const q = validateDefinitionQuery(parseQuery(ctx.url.searchParams));
      const id = ctx.params.id ?? '';
      if (q.version !== undefined) {
        // A deployed version (e.g. the one a running instance pinned), from the records store.
        const v = new RegExp(ID).test(id) ? await store.definitionVersion(id, q.version) : undefined;
        if (!v) throw new ApiProblem(404, 'UNKNOWN_VERSION', `no deployed version ${q.version} of "${id}"`);
        const live = definitions.get(id);
        sendJson(ctx.res, 200, {
          id: v.procedure,
          version: v.version,
          hash: v.hash,
          current: live?.hash === v.hash,
          ir: v.ir,
          yaml: v.yaml,
          deployedBy: v.deployedBy,
          deployedAt: v.deployedAt,
        });
        return;
      }
      const def = definitionOf(id);
      const versions = await store.definitionVersions(def.ir.id);
      const current = versions.find((v) => v.version === def.ir.version && v.hash === def.hash);
      sendJson(ctx.res, 200, {
        ...summary(def),
        ir: def.ir,
        ...(current
          ? { yaml: current.yaml, deployedBy: current.deployedBy, deployedAt: current.deployedAt }
          : {}),
        versions: versions.map((v) => ({
          version: v.version,
          hash: v.hash,
          deployedBy: v.deployedBy,
          deployedAt: v.deployedAt,
        })),
      });
    }),
  );

  route(
    'POST',
    '/api/definitions/validate',
    authed(async (ctx) => {
      validateNoQuery(parseQuery(ctx.url.searchParams));
      const body = validateDraft(await readJsonBody(ctx.req, bodyLimit));
      const file = body.file ?? 'draft.yaml';
      const result = validateProcedureText(body.yaml, file);
      const diagnostics = [...result.diagnostics];
      let summary: Record<string, unknown> = {};
      if (result.ir) {
        const hash = hashProcedure(result.ir);
        const def: LoadedDefinition = {
          file,
          ir: result.ir,
          hash,
          ...(result.positions ? { positions: result.positions } : {}),
        };
        // The all-paths invariant proof (bounded by verify's configuration cap).
        diagnostics.push(...invariantDiagnostics(def));
        summary = { id: result.ir.id, version: result.ir.version, hash };
      }
      const valid = !diagnostics.some((d) => d.severity === 'error');
      sendJson(ctx.res, 200, { valid, ...summary, diagnostics });
    }),
  );

  route(
    'POST',
    '/api/definitions',
    authed(async (ctx) => {
      validateNoQuery(parseQuery(ctx.url.searchParams));
      if (!ctx.user.roles.includes('admin'))
        throw new ApiProblem(403, 'NOT_ADMIN', 'only users with the admin role deploy definitions');
      const body = validateDraft(await readJsonBody(ctx.req, bodyLimit));
      let deployed;
      try {
        deployed = await deployDefinitionText(store, definitions, body.yaml, ctx.user.id, body.file);
      } catch (err) {
        if (!(err instanceof DeployRefused)) throw err;
        const status = err.code === 'DEFINITION_INVALID' ? 422 : 409;
        throw new ApiProblem(status, err.code, err.message, { diagnostics: err.diagnostics });
      }
      const { definition: def, version: v } = deployed;
      try {
        await opts.onDeployed?.(def);
      } catch (err) {
        // Deployed and current; what follows (schedules) is reported, not undone.
        onError(err, ctx.req);
      }
      sendJson(
        ctx.res,
        201,
        {
          id: v.procedure,
          version: v.version,
          hash: v.hash,
          deployedBy: v.deployedBy,
          deployedAt: v.deployedAt,
          diagnostics: deployed.diagnostics,
        },
        {
          location: `/api/definitions/${encodeURIComponent(v.procedure)}?version=${encodeURIComponent(v.version)}`,
        },
      );
    }),
  );

  route(
    'GET',
    '/api/clauses',
    authed(async (ctx) => {
      validateNoQuery(parseQuery(ctx.url.searchParams));
      sendJson(ctx.res, 200, { clauses: opts.clauses ?? [] });
    }),
  );

  // --- instances ------------------------------------------------------------------------------

  route(
    'POST',
    '/api/instances',
    authed(async (ctx) => {
      validateNoQuery(parseQuery(ctx.url.searchParams));
      const body = validateStart(await readJsonBody(ctx.req, bodyLimit));
      const def = definitionOf(body.procedure);
      const input = body.input ?? {};
      const problems = schemasOf(def).startInputProblems(input);
      if (problems.length)
        throw new ApiProblem(422, 'INVALID_INPUT', `start input rejected: ${formatProblems(problems)}`, {
          errors: problems,
        });
      const c = def.ir.clientField ? input[def.ir.clientField] : undefined;
      if (!mayAccessClient(ctx.user, typeof c === 'string' ? c : undefined))
        throw new ApiProblem(403, 'CLIENT_NOT_ASSIGNED', `you are not assigned to client "${String(c)}"`);
      const workflowId = await startProcedure(client, def, {
        context: input,
        starter: { id: ctx.user.id, roles: [...ctx.user.roles] },
        taskQueue,
      });
      sendJson(
        ctx.res,
        201,
        { workflowId, procedure: def.ir.id, version: def.ir.version, hash: def.hash },
        { location: `/api/instances/${encodeURIComponent(workflowId)}` },
      );
    }),
  );

  route(
    'GET',
    '/api/instances',
    authed(async (ctx) => {
      const q = validateList(parseQuery(ctx.url.searchParams));
      if (q.client && !mayAccessClient(ctx.user, q.client)) {
        sendJson(ctx.res, 200, { instances: [] });
        return;
      }
      const { limit, pageToken, ...filter } = q;
      const parts = [buildListQuery(filter)];
      const iso = isolationClause(ctx.user);
      if (iso) parts.push(iso);
      const page = await pageOf(parts.join(' AND '), limit ?? 50, pageToken);
      sendJson(ctx.res, 200, {
        instances: page.rows,
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      });
    }),
  );

  route(
    'GET',
    '/api/instances/:id',
    authed(async (ctx) => {
      validateNoQuery(parseQuery(ctx.url.searchParams));
      const workflowId = ctx.params.id ?? '';
      await accessibleInstance(ctx.user, workflowId);
      const snapshot = await getSnapshot(client, workflowId);
      // The events this user's roles may send now, before separation-of-duty rules (which depend on
      // who did what; the workflow applies them when an event is sent, and its answer lists them).
      const mine = new Set(ctx.user.roles.flatMap((r) => snapshot.available[r] ?? []));
      sendJson(ctx.res, 200, { workflowId, ...snapshot, availableToMyRoles: [...mine].sort() });
    }),
  );

  route(
    'POST',
    '/api/instances/:id/events',
    authed(async (ctx) => {
      validateNoQuery(parseQuery(ctx.url.searchParams));
      const body = validateEvent(await readJsonBody(ctx.req, bodyLimit));
      const workflowId = ctx.params.id ?? '';
      const inst = await accessibleInstance(ctx.user, workflowId);
      if (!inst.running)
        throw new ApiProblem(409, 'INSTANCE_FINISHED', 'this instance has finished; it takes no events');
      try {
        const result = await sendEvent(client, workflowId, {
          type: body.type,
          ...(body.data ? { data: body.data } : {}),
          actor: { id: ctx.user.id, roles: [...ctx.user.roles] },
        });
        sendJson(ctx.res, 200, result);
      } catch (err) {
        if (err instanceof EventRejected)
          throw new ApiProblem(REJECTION_STATUS[err.code] ?? 409, err.code, err.message);
        if (err instanceof WorkflowNotFoundError)
          throw new ApiProblem(409, 'INSTANCE_FINISHED', 'this instance has finished; it takes no events');
        throw err;
      }
    }),
  );

  route(
    'GET',
    '/api/inbox',
    authed(async (ctx) => {
      const q = validateInboxQuery(parseQuery(ctx.url.searchParams));
      const roles = ctx.user.roles;
      if (!roles.length) {
        sendJson(ctx.res, 200, { tasks: [] });
        return;
      }
      const parts = [
        `WorkflowType = ${quote(WORKFLOW_TYPE)}`,
        `ExecutionStatus = 'Running'`,
        `CustodiaAwaiting IN (${roles.map(quote).join(', ')})`,
      ];
      const iso = isolationClause(ctx.user);
      if (iso) parts.push(iso);
      const limit = q.limit ?? 100;
      const base = parts.join(' AND ');
      const now = new Date();
      // Most overdue first, then the earliest deadline, then tasks without one (longest waiting
      // first) — exact for any number of tasks (see earliestBy), reading at most INBOX_SCAN rows.
      const epoch = new Date(0);
      const farFuture = new Date(now.getTime() + 100 * 365 * 86_400_000);
      const overdue = await earliestBy(client, base, 'CustodiaDueAt', epoch, now, limit, INBOX_SCAN, now);
      const rows = [...overdue.rows];
      let complete = overdue.rows.length === overdue.total;
      if (complete && rows.length < limit) {
        const due = await earliestBy(
          client,
          base,
          'CustodiaDueAt',
          now,
          farFuture,
          limit - rows.length,
          INBOX_SCAN,
          now,
        );
        rows.push(...due.rows);
        complete = due.rows.length === due.total;
      }
      if (complete && rows.length < limit) {
        const undated = await earliestBy(
          client,
          `${base} AND CustodiaDueAt IS NULL`,
          'CustodiaStateSince',
          epoch,
          farFuture,
          limit - rows.length,
          INBOX_SCAN,
          now,
        );
        rows.push(...undated.rows);
      }
      const total = (await client.workflow.count(base)).count;
      sendJson(ctx.res, 200, {
        tasks: rows.map((r) => ({ ...r, myRoles: r.awaiting.filter((x) => roles.includes(x as never)) })),
        total,
        // More tasks than shown.
        truncated: total > rows.length,
      });
    }),
  );

  /** The stalled query (past the SLA, or idle longer than `idle`) for this user, or a 400. */
  const stalledQuery = (
    user: User,
    idle: string,
    now: Date,
    filter: { procedure?: string; state?: string },
  ): string => {
    if (parseDuration(idle) === undefined)
      throw new ApiProblem(400, 'INVALID_QUERY', `idle must be an ISO-8601 duration such as P3D or PT12H`);
    const parts = [buildListQuery({ stalled: true, idle, ...filter }, now)];
    const iso = isolationClause(user);
    if (iso) parts.push(iso);
    return parts.join(' AND ');
  };

  route(
    'GET',
    '/api/stalled',
    authed(async (ctx) => {
      const q = validateStalledQuery(parseQuery(ctx.url.searchParams));
      const idle = q.idle ?? 'P3D';
      const now = new Date();
      const query = stalledQuery(ctx.user, idle, now, {
        ...(q.procedure ? { procedure: q.procedure } : {}),
        ...(q.state ? { state: q.state } : {}),
      });
      // One visibility page (newest first; SQL visibility has no ORDER BY on our attributes),
      // the most overdue / longest idle first within it; the exact totals: /api/stalled/counts.
      const page = await pageOf(query, q.limit ?? 100, q.pageToken, now);
      const since = (iso?: string): number => (iso ? now.getTime() - Date.parse(iso) : 0);
      const out = page.rows
        .map((r) => ({
          ...r,
          idleMs: since(r.stateSince),
          ...(r.overdue && r.dueAt ? { overdueMs: since(r.dueAt) } : {}),
        }))
        .sort((a, b) => (b.overdueMs ?? -1) - (a.overdueMs ?? -1) || b.idleMs - a.idleMs);
      sendJson(ctx.res, 200, {
        idle,
        instances: out,
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      });
    }),
  );

  route(
    'GET',
    '/api/stalled/counts',
    authed(async (ctx) => {
      const q = validateStalledCountsQuery(parseQuery(ctx.url.searchParams));
      const idle = q.idle ?? 'P3D';
      const now = new Date();
      const query = stalledQuery(ctx.user, idle, now, {});
      const counts = await countByProcedureAndState(
        client,
        query,
        [...definitions.values()].map((d) => d.ir),
        now,
      );
      sendJson(ctx.res, 200, { idle, at: now.toISOString(), ...counts });
    }),
  );

  // --- audit ----------------------------------------------------------------------------------

  route(
    'GET',
    '/api/audit',
    authed(async (ctx) => {
      const q = validateAuditQuery(parseQuery(ctx.url.searchParams));
      if ((q.workflowId === undefined) === (q.client === undefined))
        throw new ApiProblem(400, 'INVALID_QUERY', 'give exactly one of workflowId and client');
      let entries: AuditEntry[];
      if (q.workflowId) {
        entries = await store.auditOf(q.workflowId);
        const clients = new Set(entries.map((e) => e.client).filter((c): c is string => c !== undefined));
        const hidden = [...clients].some((c) => !mayAccessClient(ctx.user, c));
        if (hidden) throw new ApiProblem(404, 'NOT_FOUND', `no instance "${q.workflowId}"`);
        if (!entries.length) await accessibleInstance(ctx.user, q.workflowId);
      } else {
        const c = q.client ?? '';
        if (!mayAccessClient(ctx.user, c)) throw new ApiProblem(404, 'NOT_FOUND', `no client "${c}"`);
        entries = await store.auditOfClient(c);
      }
      if (q.format === 'csv') sendText(ctx.res, 200, 'text/csv; charset=utf-8', auditToCsv(entries));
      else sendJson(ctx.res, 200, { entries });
    }),
  );

  route(
    'GET',
    '/api/audit/verify',
    authed(async (ctx) => {
      validateNoQuery(parseQuery(ctx.url.searchParams));
      // The whole chain spans every client: for those who see every client, and admins.
      if (!seesAllClients(ctx.user) && !ctx.user.roles.includes('admin'))
        throw new ApiProblem(
          403,
          'NOT_ALLOWED',
          'verifying the whole audit chain is for the quality manager, the general manager and admins',
        );
      const v = await store.verifyAudit();
      sendJson(ctx.res, 200, { backend: store.backend, ...v });
    }),
  );

  route('GET', '/api/openapi.json', async (ctx) => {
    validateNoQuery(parseQuery(ctx.url.searchParams));
    sendJson(ctx.res, 200, openApiDocument());
  });

  // --- dispatch -------------------------------------------------------------------------------

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      throw new ApiProblem(400, 'BAD_URL', 'malformed request URL');
    }
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const allowed: string[] = [];
    for (const r of routes) {
      const m = r.pattern.exec(url.pathname);
      if (!m) continue;
      if (r.method !== method) {
        allowed.push(r.method);
        continue;
      }
      const params: Record<string, string> = {};
      try {
        r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1] ?? '')));
      } catch {
        throw new ApiProblem(400, 'BAD_URL', 'malformed percent-encoding in the path');
      }
      await r.handler({ req, res, url, params, ip: req.socket.remoteAddress ?? '' });
      return;
    }
    if (!allowed.length && method === 'GET' && ui?.serve(req, res, url.pathname)) return;
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

  const server = createServer((req, res) => {
    handle(req, res)
      .catch((err: unknown) => {
        if (err instanceof ApiProblem) return sendProblem(res, err);
        onError(err, req);
        if (unavailable(err))
          return sendProblem(
            res,
            new ApiProblem(
              503,
              'UNAVAILABLE',
              'Temporal is out of reach; try again shortly',
              {},
              { 'retry-after': '5' },
            ),
          );
        sendProblem(res, new ApiProblem(500, 'INTERNAL', 'the server could not complete the request'));
      })
      .finally(() => {
        if (!req.complete) discardBody(req);
      });
  });
  // Expired sessions are refused anyway; this only keeps the table small.
  const sweeper = setInterval(() => {
    store.deleteExpiredSessions().catch((err: unknown) => onError(err, undefined));
  }, 10 * 60_000);
  sweeper.unref();
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;

  return {
    server,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const a = server.address() as AddressInfo;
          resolve(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
        });
      });
    },
    /** Stop listening and drop open connections (again: a no-op). */
    close() {
      clearInterval(sweeper);
      if (!server.listening) return Promise.resolve();
      return new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
