/**
 * The security events the API records in the audit chain: sign-in, failed sign-in, sign-out (and
 * "sign out everywhere"), a refused event, an export. Every call site goes through these functions,
 * so switching to the records store's dedicated kinds (`sign_in`, `sign_in_failed`, `sign_out`,
 * `refusal`, `export` and their record builders in `records/security-audit.ts`) is a change here
 * only. Until then each is an `admin` record whose `act` names the event (`session.sign_in`, …).
 *
 * Never a password, a session id or a token: the chain is permanent. Writes are awaited: an act
 * that cannot be recorded fails its request (500) rather than happen unrecorded.
 */
import type { Json } from '../../workflows/core/ir.ts';
import type { RecordsStore } from '../records/types.ts';

/** Who asked, from where (the client address as `network.ts` decides it). */
export interface AuditOrigin {
  store: RecordsStore;
  ip: string;
  userAgent?: string;
}

/** The acts recorded, as the `act` of the admin record. */
export const AUDIT_ACTS = {
  signIn: 'session.sign_in',
  failedSignIn: 'session.sign_in_failed',
  signOut: 'session.sign_out',
  refusedEvent: 'instance.event_refused',
  export: 'audit.export',
} as const;

export type SignInMethod = 'password' | 'oidc';
export type FailedSignInReason = 'bad_credentials' | 'not_oidc_user' | 'unknown_user';

/** Longest attempted id kept from a failed sign-in (the input is the caller's). */
const MAX_ATTEMPTED_ID = 128;

function from(o: AuditOrigin): Record<string, Json> {
  return { ip: o.ip, ...(o.userAgent ? { userAgent: o.userAgent.slice(0, 256) } : {}) };
}

async function append(
  o: AuditOrigin,
  r: { subject: string; actorId: string; client?: string; act: string; body: Record<string, Json> },
): Promise<void> {
  await o.store.appendAdminRecord({
    kind: 'admin',
    subject: r.subject,
    actorId: r.actorId,
    ...(r.client !== undefined ? { client: r.client } : {}),
    body: { act: r.act, ...r.body, ...from(o) },
  });
}

/** A successful sign-in. */
export function auditSignIn(o: AuditOrigin, userId: string, method: SignInMethod): Promise<void> {
  return append(o, {
    subject: `user:${userId}`,
    actorId: userId,
    act: AUDIT_ACTS.signIn,
    body: { user: userId, method },
  });
}

/** A failed sign-in, with the id that was tried (cut to 128 characters). */
export function auditFailedSignIn(
  o: AuditOrigin,
  attemptedId: string,
  reason: FailedSignInReason,
  method: SignInMethod,
): Promise<void> {
  const id = attemptedId.slice(0, MAX_ATTEMPTED_ID) || '(empty)';
  return append(o, {
    subject: `user:${id}`,
    actorId: id,
    act: AUDIT_ACTS.failedSignIn,
    body: { user: id, reason, method },
  });
}

/** A sign-out: this session (`user`), or every session of the user (`revoked`). */
export function auditSignOut(
  o: AuditOrigin,
  userId: string,
  reason: 'user' | 'revoked',
  sessions = 1,
): Promise<void> {
  return append(o, {
    subject: `user:${userId}`,
    actorId: userId,
    act: AUDIT_ACTS.signOut,
    body: { user: userId, reason, sessions },
  });
}

/** An event the engine refused (its rejection code). */
export function auditRefusedEvent(
  o: AuditOrigin,
  actor: { id: string; roles: readonly string[] },
  workflowId: string,
  event: string,
  code: string,
  client?: string,
): Promise<void> {
  return append(o, {
    subject: workflowId,
    actorId: actor.id,
    ...(client !== undefined ? { client } : {}),
    act: AUDIT_ACTS.refusedEvent,
    body: { event, code, actorRoles: [...actor.roles] },
  });
}

/** An export of audit entries (what was selected, the format, how many). */
export function auditExport(
  o: AuditOrigin,
  actorId: string,
  what: { subject: string; filter: Record<string, Json>; format: string; count: number; client?: string },
): Promise<void> {
  return append(o, {
    subject: what.subject,
    actorId,
    ...(what.client !== undefined ? { client: what.client } : {}),
    act: AUDIT_ACTS.export,
    body: { filter: what.filter, format: what.format, count: what.count },
  });
}
