/**
 * The browser's client of the HTTP API (`/api`, see `worker/api/openapi.ts`): same-origin
 * requests with the session cookie, the CSRF token on every state-changing request, and errors as
 * `ApiError` carrying the server's problem+json (`code`, `detail`, extra fields such as
 * `diagnostics`). Nothing here keeps state beyond the CSRF token of the current session.
 */
export interface Problem {
  status: number;
  code: string;
  title?: string;
  detail: string;
  [key: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail || problem.title || problem.code);
    this.name = 'ApiError';
    this.status = problem.status;
    this.code = problem.code;
    this.problem = problem;
  }
}

let csrfToken: string | undefined;

/** Set after sign-in and after `GET /api/me` (the token belongs to the session). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** The session's CSRF token, for requests `api()` does not make (a file upload's raw body). */
export function currentCsrfToken(): string | undefined {
  return csrfToken;
}

/** Listeners told when the server answers 401 (session expired or signed out elsewhere). */
const unauthorized = new Set<() => void>();
export function onUnauthorized(fn: () => void): () => void {
  unauthorized.add(fn);
  return () => unauthorized.delete(fn);
}

/** The UI's language, sent as `Accept-Language` so the engine's messages come back in it. */
let answerLanguage: 'zh' | 'en' | undefined;

/** Set by the language provider whenever the UI's language changes. */
export function setAnswerLanguage(lang: 'zh' | 'en'): void {
  answerLanguage = lang;
}

export async function api<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  opts: { query?: Record<string, string | number | boolean | undefined>; signal?: AbortSignal } = {},
): Promise<T> {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(opts.query ?? {}))
    if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (answerLanguage) headers['accept-language'] = answerLanguage;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError({
      status: 0,
      code: 'NETWORK',
      detail: 'the server cannot be reached; check your connection and try again',
    });
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  const payload: unknown = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    const p =
      payload && typeof payload === 'object'
        ? (payload as Partial<Problem>)
        : { detail: typeof payload === 'string' ? payload : '' };
    const problem: Problem = {
      ...p,
      status: res.status,
      code: typeof p.code === 'string' ? p.code : `HTTP_${res.status}`,
      detail: typeof p.detail === 'string' ? p.detail : res.statusText,
    };
    if (res.status === 401 && !path.endsWith('/api/session')) for (const fn of unauthorized) fn();
    throw new ApiError(problem);
  }
  return payload as T;
}

/** Any thrown value as an `ApiError` (a failure in the browser itself is code `CLIENT`). */
export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError({
    status: 0,
    code: 'CLIENT',
    detail: err instanceof Error ? err.message : String(err),
  });
}
