/**
 * The HTTP plumbing of the API on plain `node:http`: problem responses (RFC 9457
 * `application/problem+json`), bounded JSON bodies, cookies, query strings and body/query
 * validation with ajv (unknown fields rejected).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

/** A 4xx (or 5xx) answer: thrown by handlers, written as `application/problem+json`. */
export class ApiProblem extends Error {
  override name = 'ApiProblem';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  // API answers are data, never a page: nothing loads from them and nobody frames them.
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

export function sendProblem(res: ServerResponse, p: ApiProblem): void {
  const body = {
    type: `urn:custodia:problem:${p.code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[p.status] ?? 'Error',
    status: p.status,
    detail: p.message,
    code: p.code,
    ...p.extra,
  };
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(p.status, {
    ...BASE_HEADERS,
    ...p.headers,
    'content-type': 'application/problem+json; charset=utf-8',
  });
  res.end(JSON.stringify(body));
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): void {
  res.writeHead(status, { ...BASE_HEADERS, ...headers, 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

export function sendText(res: ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { ...BASE_HEADERS, 'content-type': contentType });
  res.end(text);
}

/** A download: `body` as `contentType`, offered to save as `filename` (ASCII; RFC 6266). */
export function sendDownload(
  res: ServerResponse,
  contentType: string,
  body: string | Uint8Array,
  filename: string,
): void {
  res.writeHead(200, {
    ...BASE_HEADERS,
    'content-type': contentType,
    'content-length': String(typeof body === 'string' ? Buffer.byteLength(body) : body.length),
    'content-disposition': `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
  });
  res.end(body);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...BASE_HEADERS, ...headers });
  res.end();
}

/**
 * Read a JSON object body of at most `limit` bytes. 415 unless `application/json`; 413 when
 * larger (by Content-Length up front, or while reading); 400 for malformed JSON or a non-object.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const length = Number(req.headers['content-length'] ?? NaN);
  // Past the limit the rest is read and dropped (so the client gets its 413 rather than a reset),
  // up to a hard cap beyond which the connection is closed.
  const hardCap = Math.max(limit * 32, 8 * 1024 * 1024);
  const tooLargeProblem = (close: boolean): ApiProblem =>
    new ApiProblem(
      413,
      'BODY_TOO_LARGE',
      `request bodies are limited to ${limit} bytes`,
      {},
      close ? { connection: 'close' } : {},
    );
  if (Number.isFinite(length) && length > hardCap) throw tooLargeProblem(true);
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  let overCap = false;
  await new Promise<void>((resolve, reject) => {
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > hardCap && !overCap) {
        overCap = true;
        req.pause();
        resolve();
      } else if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', resolve);
    req.on('error', reject);
  });
  if (overCap) throw tooLargeProblem(true);
  if (tooLarge) throw tooLargeProblem(false);
  if (size === 0) throw new ApiProblem(400, 'BODY_REQUIRED', 'this request needs a JSON body');
  if (type !== 'application/json')
    throw new ApiProblem(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  const text = Buffer.concat(chunks).toString('utf8');
  if (nestingExceeds(text, MAX_JSON_DEPTH))
    throw new ApiProblem(
      400,
      'TOO_DEEP',
      `the body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`,
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ApiProblem(
      400,
      'MALFORMED_JSON',
      `the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ApiProblem(400, 'INVALID_BODY', 'the body must be a JSON object');
  return value;
}

/** Deepest nesting of objects and arrays a body may have (the engine's data is far shallower). */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether JSON text nests brackets deeper than `max` (strings skipped): checked before parsing, so
 * nothing recursive (validation, canonical hashing, payload conversion) ever meets such a value.
 */
export function nestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** Drain (and discard) a body nobody reads, so keep-alive connections stay usable. */
export function discardBody(req: IncomingMessage): void {
  req.resume();
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    const value = part.slice(i + 1).trim();
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}

/** Query parameters as an object; a repeated parameter is refused. */
export function parseQuery(search: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of search) {
    if (Object.prototype.hasOwnProperty.call(out, k))
      throw new ApiProblem(400, 'INVALID_QUERY', `query parameter "${k}" is given more than once`);
    out[k] = v;
  }
  return out;
}

const bodyAjv = new Ajv2020({ strict: true, allErrors: true });
const queryAjv = new Ajv2020({ strict: true, allErrors: true, coerceTypes: true });

export interface Validator<T> {
  (value: unknown): T;
}

function describe(e: ErrorObject): string {
  const where = e.instancePath || '(root)';
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties')
    return `${where}: unknown field "${String(p.additionalProperty)}"`;
  if (e.keyword === 'required') return `${where}: missing required field "${String(p.missingProperty)}"`;
  return `${where}: ${e.message ?? e.keyword}`;
}

function validator<T>(fn: ValidateFunction, what: 'body' | 'query'): Validator<T> {
  return (value: unknown): T => {
    if (fn(value)) return value as T;
    const errors = fn.errors ?? [];
    const unknown = errors.some((e) => e.keyword === 'additionalProperties');
    const code = unknown
      ? what === 'body'
        ? 'UNKNOWN_FIELD'
        : 'UNKNOWN_PARAMETER'
      : what === 'body'
        ? 'INVALID_BODY'
        : 'INVALID_QUERY';
    const list = errors.map(describe);
    throw new ApiProblem(400, code, `${what} rejected: ${list.join('; ')}`, { errors: list });
  };
}

export function bodyValidator<T>(schema: object): Validator<T> {
  return validator<T>(bodyAjv.compile(schema), 'body');
}

/** Query strings: values are coerced to the schema's types (`limit=5` → 5, `overdue=true` → true). */
export function queryValidator<T>(schema: object): Validator<T> {
  return validator<T>(queryAjv.compile(schema), 'query');
}
