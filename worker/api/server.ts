/**
 * The HTTP API (`/api`, JSON): sessions, definitions, instances (start, list via Temporal
 * visibility, snapshot, events), the inbox and the audit trail. Plain `node:http`; the routes are
 * declarations (`routes/*.route.ts`) from which the router validates every body and query (unknown
 * fields rejected) and the OpenAPI document is generated. This module assembles them: the context,
 * the router, and the mapping of every failure to an `application/problem+json` answer. Who acts is
 * always the signed-in user; what each user sees is decided in `worker/access.ts`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  isGrpcDeadlineError,
  isGrpcServiceError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { createContext, type ApiOptions } from './context.ts';
import { ApiProblem, discardBody, sendProblem } from './http.ts';
import { openApiDocument } from './openapi.ts';
import { isSecureRequest } from './network.ts';
import { createRouter, matchedRoutes } from './router.ts';
import { log } from '../log.ts';
import { httpRequestSeconds } from '../metrics.ts';
import { API_ROUTES } from './routes/index.ts';

export type { ApiOptions } from './context.ts';
export { CSRF_HEADER, SECURE_SESSION_COOKIE, SESSION_COOKIE } from './sessions.ts';

export interface Api {
  server: Server;
  /** Listen (port 0: any free port); resolves with the URL, e.g. `http://127.0.0.1:8080`. */
  listen(port: number, host?: string): Promise<string>;
  close(): Promise<void>;
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

/** The problem an error is answered with; unexpected ones are reported to `onError` first. */
function problemOf(err: unknown, report: () => void): ApiProblem {
  if (err instanceof ApiProblem) return err;
  // A value no visibility query may hold (worker/visibility.ts's quote), e.g. a client name.
  if (err instanceof Error && err.name === 'InvalidQueryValue')
    return new ApiProblem(400, 'INVALID_QUERY', 'values may not contain quotes');
  report();
  // A view query Temporal did not answer after a few tries (worker/visibility.ts's viewQuery).
  if (err instanceof Error && err.name === 'ViewQueryUnavailable')
    return new ApiProblem(503, 'UNAVAILABLE', err.message, {}, { 'retry-after': '5' });
  if (unavailable(err))
    return new ApiProblem(
      503,
      'UNAVAILABLE',
      'Temporal is out of reach; try again shortly',
      {},
      { 'retry-after': '5' },
    );
  return new ApiProblem(500, 'INTERNAL', 'the server could not complete the request');
}

/** A caller's `x-request-id` when it is a sane token, else a new one (echoed in the answer). */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}

/**
 * Time the request by its declared route pattern (`(other)` for the UI and unknown paths) and
 * status, and log one line (JSON format only) with the request id and the instance, if any.
 */
function observe(req: IncomingMessage, res: ServerResponse, requestId: string): void {
  const start = process.hrtime.bigint();
  res.once('finish', () => {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const matched = matchedRoutes.get(req);
    const route = matched?.route.path ?? '(other)';
    const method = req.method ?? 'GET';
    httpRequestSeconds.observe({ method, route, status: String(res.statusCode) }, seconds);
    const logger = log();
    if (logger.format === 'json')
      logger.info('request', {
        requestId,
        method,
        route,
        status: res.statusCode,
        ms: Math.round(seconds * 1e4) / 10,
        workflowId: matched?.route.path.startsWith('/api/instances/:id') ? matched.params.id : undefined,
      });
  });
}

/** Unexpected errors, through the logger (with the request id) unless the caller reports them. */
function logUnexpected(err: unknown, req: IncomingMessage | undefined): void {
  const requestId = req ? requestIds.get(req) : undefined;
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  log().error(`api: unexpected error: ${detail}`, { requestId });
}

const requestIds = new WeakMap<IncomingMessage, string>();

export function createApi(opts: ApiOptions): Api {
  let doc: object | undefined;
  const app = createContext({ onError: logUnexpected, ...opts }, () => (doc ??= openApiDocument(API_ROUTES)));
  const ui = app.ui;
  const handle = createRouter(
    API_ROUTES,
    app,
    ui ? (req, res, pathname) => ui.serve(req, res, pathname) : undefined,
  );

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const requestId = requestIdOf(req);
    requestIds.set(req, requestId);
    res.setHeader('x-request-id', requestId);
    observe(req, res, requestId);
    // Served over TLS (here or at a trusted proxy): browsers keep to https from now on.
    if (isSecureRequest(req, app.trustedProxies))
      res.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
    handle(req, res)
      .catch((err: unknown) =>
        sendProblem(
          res,
          problemOf(err, () => app.onError(err, req)),
        ),
      )
      .finally(() => {
        if (!req.complete) discardBody(req);
      });
  });
  // Expired sessions are refused anyway; this only keeps the table small.
  const sweeper = setInterval(() => {
    app.store.deleteExpiredSessions().catch((err: unknown) => app.onError(err, undefined));
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
      void app.hashPool.close();
      void app.draftPool.close();
      if (!server.listening) return Promise.resolve();
      return new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
