/**
 * What the people routes (`users.route.ts`, `setup.route.ts`) share: the records store's refusals
 * as problems, the roles users may hold, and the rate limit of the token-authenticated routes.
 */
import { isRecordsError, type RecordsErrorCode } from '../../records/errors.ts';
import type { User } from '../../records/types.ts';
import { productRoles, type KnownRole } from '../../roles.ts';
import type { ApiContext } from '../context.ts';
import { ApiProblem } from '../http.ts';
import { isRefusal } from '../sign-in-limits.ts';

/** The status of each refusal of the user directory; other codes are faults (500). */
const STATUS: Partial<Record<RecordsErrorCode, number>> = {
  INVALID_INPUT: 422,
  WEAK_PASSWORD: 422,
  USER_EXISTS: 409,
  UNKNOWN_USER: 404,
  LAST_ADMIN: 409,
  SELF_DISABLE: 409,
  SETUP_DONE: 409,
  TOKEN_INVALID: 400,
};

/** The problems a route of the user directory may answer, for its declaration. */
export const DIRECTORY_PROBLEMS = {
  422: 'INVALID_INPUT, WEAK_PASSWORD, UNKNOWN_ROLE',
  409: 'USER_EXISTS, LAST_ADMIN, SELF_DISABLE',
  404: 'UNKNOWN_USER',
};

/** Run `fn`; a refusal of the records store becomes its problem (status by code). */
export async function directory<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const status = isRecordsError(err) ? STATUS[err.code] : undefined;
    if (status && isRecordsError(err)) throw new ApiProblem(status, err.code, err.message);
    throw err;
  }
}

/** The roles users may hold: the engine's, the definitions' this process runs and every deployed version's. */
export function rolesOf(app: ApiContext): Promise<Map<string, KnownRole>> {
  return productRoles(app.store, app.definitions.values());
}

/** 422 `UNKNOWN_ROLE` naming the roles that are not known, and those that are. */
export function checkRoles(roles: readonly string[], known: ReadonlyMap<string, unknown>): void {
  const unknown = roles.filter((r) => !known.has(r));
  if (unknown.length)
    throw new ApiProblem(
      422,
      'UNKNOWN_ROLE',
      `unknown role(s) ${unknown.join(', ')}; roles users may hold: ${[...known.keys()].join(', ')}`,
    );
}

/** A user as the directory shows it to administrators. */
export function directoryView(u: User): Record<string, unknown> {
  return {
    id: u.id,
    displayName: u.displayName,
    roles: u.roles,
    clients: u.clients,
    disabled: u.disabled,
    createdAt: u.createdAt,
  };
}

/**
 * Token-authenticated routes: 429 while `ip` has failed too often (the login limiter's window),
 * then `fn`; an invalid token counts as a failure.
 */
export async function limited<T>(
  app: ApiContext,
  what: string,
  ip: string,
  fn: () => Promise<T>,
): Promise<T> {
  // The sign-in budgets, under a key of their own per token route (counted as a failure until it succeeds).
  const attempt = app.limits.admit(`token:${what}`, ip);
  if (isRefusal(attempt))
    throw new ApiProblem(
      429,
      'TOO_MANY_ATTEMPTS',
      `too many failed attempts; try again in ${attempt.retryAfter} s`,
      {},
      { 'retry-after': String(attempt.retryAfter) },
    );
  try {
    const result = await fn();
    // Not counted, but unlike a password sign-in a valid token does not forgive earlier failures.
    attempt.withdrawn();
    return result;
  } catch (err) {
    if (err instanceof ApiProblem && err.code === 'TOKEN_INVALID') attempt.failed();
    else attempt.withdrawn();
    throw err;
  }
}
