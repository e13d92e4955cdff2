/**
 * The security events the API records in the audit chain, each under its own audit kind:
 * `sign_in`, `sign_in_failed`, `sign_out` (also "sign out everywhere"), `refusal` (an event the
 * engine refused), `export`. Every call site goes through these functions; the records are built
 * by `records/security-audit.ts`, so an auditor filters the chain by kind.
 *
 * Never a password, a session id or a token: the chain is permanent. Writes are awaited: an act
 * that cannot be recorded fails its request (500) rather than happen unrecorded.
 */
import type { Json } from '../../workflows/core/ir.ts';
import {
  exportRecord,
  refusalRecord,
  signInFailedRecord,
  signInRecord,
  signOutRecord,
  type RequestOrigin,
} from '../records/security-audit.ts';
import type { AuditKind, RecordsStore, SecurityRecordInput } from '../records/types.ts';
import { refusals } from '../metrics.ts';

/** Who asked, from where (the client address as `network.ts` decides it). */
export interface AuditOrigin {
  store: RecordsStore;
  ip: string;
  userAgent?: string;
}

/** The audit kind each act is recorded under. */
export const AUDIT_ACTS = {
  signIn: 'sign_in',
  failedSignIn: 'sign_in_failed',
  signOut: 'sign_out',
  refusedEvent: 'refusal',
  export: 'export',
} as const satisfies Record<string, AuditKind>;

export type SignInMethod = 'password' | 'oidc';
export type FailedSignInReason = 'bad_credentials' | 'not_oidc_user' | 'unknown_user';

function from(o: AuditOrigin): RequestOrigin {
  return { ip: o.ip, ...(o.userAgent ? { userAgent: o.userAgent } : {}) };
}

async function append(o: AuditOrigin, record: SecurityRecordInput): Promise<void> {
  await o.store.appendSecurityRecord(record);
}

/** A successful sign-in. */
export function auditSignIn(o: AuditOrigin, userId: string, method: SignInMethod): Promise<void> {
  return append(o, signInRecord(userId, { method, ...from(o) }));
}

/** A failed sign-in, with the id that was tried (cut to 128 characters). */
export function auditFailedSignIn(
  o: AuditOrigin,
  attemptedId: string,
  reason: FailedSignInReason,
  method: SignInMethod,
): Promise<void> {
  return append(o, signInFailedRecord(attemptedId, { reason, method, ...from(o) }));
}

/** A sign-out: this session (`user`), or every session of the user (`revoked`). */
export async function auditSignOut(
  o: AuditOrigin,
  userId: string,
  reason: 'user' | 'revoked',
  sessions = 1,
): Promise<void> {
  const record = signOutRecord(userId, { reason, ...from(o) });
  record.body = { ...record.body, sessions };
  await append(o, record);
}

/** An event the engine refused (its rejection code and message). */
export function auditRefusedEvent(
  o: AuditOrigin,
  actor: { id: string; roles: readonly string[] },
  workflowId: string,
  event: string,
  refusal: { code: string; message: string },
  client?: string,
): Promise<void> {
  refusals.inc({ code: refusal.code });
  return append(
    o,
    refusalRecord({
      actorId: actor.id,
      actorRoles: [...actor.roles],
      subject: workflowId,
      event,
      code: refusal.code,
      reason: refusal.message,
      ...(client !== undefined ? { client } : {}),
      origin: from(o),
    }),
  );
}

/** An export of audit entries (what was selected, the format, how many). */
export function auditExport(
  o: AuditOrigin,
  actorId: string,
  what: { subject: string; filter: Record<string, Json>; format: string; count: number; client?: string },
): Promise<void> {
  return append(
    o,
    exportRecord({
      actorId,
      what: 'audit',
      subject: what.subject,
      format: what.format,
      count: what.count,
      query: what.filter,
      ...(what.client !== undefined ? { client: what.client } : {}),
      origin: from(o),
    }),
  );
}

/** An export of a register's rows (which register, the filter, the format, how many rows). */
export function auditRegisterExport(
  o: AuditOrigin,
  actorId: string,
  what: { register: string; filter: Record<string, Json>; format: string; count: number; client?: string },
): Promise<void> {
  return append(
    o,
    exportRecord({
      actorId,
      what: 'records',
      subject: `records:${what.register}`,
      format: what.format,
      count: what.count,
      query: what.filter,
      ...(what.client !== undefined ? { client: what.client } : {}),
      origin: from(o),
    }),
  );
}
