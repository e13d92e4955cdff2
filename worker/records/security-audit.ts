/**
 * The security events auditors ask for, as audit records: sign-in, failed sign-in, sign-out, a
 * refused event or request, an export of audit entries or records. Each function builds the
 * record; `store.appendSecurityRecord(record)` appends it to the chain, e.g.
 *
 * ```ts
 * await store.appendSecurityRecord(signInRecord('alice', { method: 'password', ip, userAgent }));
 * ```
 *
 * User changes (create, roles, clients, disable, password) are audited by the store itself with
 * their values `before` and `after` (`users.ts`). Never put a password, a session id or a token in
 * a record: the chain is permanent.
 */
import { canonicalUserId } from './identity.ts';
import type { SecurityRecordInput } from './types.ts';
import type { Json } from '../../workflows/core/ir.ts';

/** Where a request came from (all optional; recorded as given). */
export interface RequestOrigin {
  ip?: string;
  userAgent?: string;
  /** The API's request id, to find the request in the logs. */
  requestId?: string;
}

/** Longest attempted user id kept from a failed sign-in (the input is the caller's). */
const MAX_ATTEMPTED_ID = 128;

function origin(o: RequestOrigin): Record<string, Json> {
  const out: Record<string, Json> = {};
  if (o.ip !== undefined) out.ip = o.ip;
  if (o.userAgent !== undefined) out.userAgent = o.userAgent.slice(0, 256);
  if (o.requestId !== undefined) out.requestId = o.requestId;
  return out;
}

/** A successful sign-in of `userId` (`method`: password, oidc, token, …). */
export function signInRecord(
  userId: string,
  details: RequestOrigin & { method: string },
): SecurityRecordInput {
  const id = canonicalUserId(userId);
  const { method, ...from } = details;
  return { kind: 'sign_in', subject: `user:${id}`, actorId: id, body: { user: id, method, ...origin(from) } };
}

/** Why a sign-in failed. `unknown_user` and `bad_password` should look the same to the client. */
export type SignInFailure =
  | 'unknown_user'
  | 'bad_password'
  | 'bad_credentials'
  | 'not_oidc_user'
  | 'disabled'
  | 'rate_limited'
  | 'invalid_request';

/** A failed sign-in with the id that was tried (canonical, cut to 128 characters). */
export function signInFailedRecord(
  attemptedId: string,
  details: RequestOrigin & { reason: SignInFailure; method?: string },
): SecurityRecordInput {
  const id = canonicalUserId(attemptedId).slice(0, MAX_ATTEMPTED_ID) || '(empty)';
  const { reason, method, ...from } = details;
  const body: Record<string, Json> = { user: id, reason, ...origin(from) };
  if (method !== undefined) body.method = method;
  return { kind: 'sign_in_failed', subject: `user:${id}`, actorId: id, body };
}

/** A sign-out: by the user, or a session ended by expiry or by an administrator. */
export function signOutRecord(
  userId: string,
  details: RequestOrigin & { reason: 'user' | 'expired' | 'revoked' },
): SecurityRecordInput {
  const id = canonicalUserId(userId);
  const { reason, ...from } = details;
  return {
    kind: 'sign_out',
    subject: `user:${id}`,
    actorId: id,
    body: { user: id, reason, ...origin(from) },
  };
}

/** An event (or other request) the engine refused: who, what, and the rejection code and reason. */
export function refusalRecord(r: {
  actorId: string;
  actorRoles?: string[];
  /** The workflow id, or what else was asked for (e.g. `definition:lending`, `records:disclosure_log`). */
  subject: string;
  /** The event type, for refused events. */
  event?: string;
  /** The action, for other refused requests (`assign`, `deploy`, `read`, …). */
  action?: string;
  /** The closed rejection code (e.g. the engine's `REJECT_ROLE`, or an HTTP-level `FORBIDDEN`). */
  code: string;
  reason: string;
  client?: string;
  origin?: RequestOrigin;
}): SecurityRecordInput {
  const actorId = canonicalUserId(r.actorId);
  const body: Record<string, Json> = { code: r.code, reason: r.reason, ...origin(r.origin ?? {}) };
  if (r.event !== undefined) body.event = r.event;
  if (r.action !== undefined) body.action = r.action;
  if (r.actorRoles !== undefined) body.actorRoles = r.actorRoles;
  const record: SecurityRecordInput = { kind: 'refusal', subject: r.subject, actorId, body };
  if (r.client !== undefined) record.client = r.client;
  return record;
}

/** An export of audit entries or a register's records: who, what, in which format, how many rows. */
export function exportRecord(r: {
  actorId: string;
  what: 'audit' | 'records' | 'evidence';
  /** What was selected, as the request gave it (workflow id, register name, …). */
  subject: string;
  format: string;
  count: number;
  /** The filters used (client, from, to, …). */
  query?: Record<string, Json>;
  client?: string;
  origin?: RequestOrigin;
}): SecurityRecordInput {
  const actorId = canonicalUserId(r.actorId);
  const body: Record<string, Json> = {
    what: r.what,
    format: r.format,
    count: r.count,
    query: r.query ?? {},
    ...origin(r.origin ?? {}),
  };
  const record: SecurityRecordInput = { kind: 'export', subject: r.subject, actorId, body };
  if (r.client !== undefined) record.client = r.client;
  return record;
}
