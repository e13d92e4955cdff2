/**
 * The records store's contract: what outlives Temporal's retention (users, assignments,
 * definition versions, the hash-chained audit log, named records, notifications, links).
 *
 * Two implementations share one SQL dialect (PostgreSQL): the embedded default (PGlite, no
 * server) and a PostgreSQL server via `DATABASE_URL`. Every write that an activity makes is
 * idempotent by `(workflow_id, seq[, idx])`, so a retry never duplicates.
 */
import type { ChildLink, TransitionCommit } from '../../workflows/api.ts';
import type { Json, ProcedureIR } from '../../workflows/core/ir.ts';
import type { RoleSet } from '../roles.ts';
import type { SqlQueryable } from './sql.ts';
import type { IssuedToken } from './user-tokens.ts';
import type * as R from './registers.ts';
import type { LookupRow } from './register-lookup.ts';
import type { UserPatch } from './users.ts';
import type * as N from './notification-types.ts';
import type { SentNotification } from './instance-notifications.ts';
import type { AttachmentStore } from './attachments.ts';
import type * as C from './calendar-versions.ts';

export type { IssuedToken } from './user-tokens.ts';
export type { UserPatch } from './users.ts';

/**
 * A role id. Which roles exist is data, not code: those the definitions the product runs declare,
 * plus the engine's `admin` and `auditor` (`knownRoles` in `worker/roles.ts`).
 */
export type Role = string;

export interface User {
  id: string;
  displayName: string;
  roles: Role[];
  /** Clients this user is assigned to (client isolation), sorted. */
  clients: string[];
  disabled: boolean;
  createdAt: string;
}

export interface NewUser {
  id: string;
  displayName: string;
  roles: Role[];
  clients?: string[];
  /** At least 12 characters; stored only as an argon2id hash. */
  password: string;
}

/**
 * A signed-in session. `id` is the bearer secret (256 random bits, base64url): the store keeps only
 * its SHA-256, so a copy of the database gives no live session. One CSRF token per session.
 */
export interface Session {
  id: string;
  userId: string;
  csrfToken: string;
  createdAt: string;
  expiresAt: string;
}

export interface DefinitionVersion {
  procedure: string;
  version: string;
  /** `hashProcedure(ir)`: what instances pin. */
  hash: string;
  yaml: string;
  ir: ProcedureIR;
  deployedBy: string;
  deployedAt: string;
}

/**
 * What an audit record is about: an accepted `transition`, a `deployment`, an `admin`istrative act
 * (user changes carry `before` and `after`), and the security events auditors ask for:
 * `sign_in`, `sign_in_failed`, `sign_out`, a `refusal` (an event or request the engine refused),
 * an `export` of audit entries or records, an `attachment` uploaded or read (`attachments.ts`).
 */
export const AUDIT_KINDS = [
  'transition',
  'deployment',
  'admin',
  'sign_in',
  'sign_in_failed',
  'sign_out',
  'refusal',
  'export',
  'attachment',
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

/**
 * One audit record: an accepted transition, a deployment, or an administrative act.
 * `hash = sha256(prevHash + canonicalJson({position, kind, subject, seq, client, actor, at, body}))`
 * (absent `seq`/`client` hashed as null), so changing, removing or moving any record breaks the chain.
 */
export interface AuditEntry {
  /** Position in the chain (1-based, gapless). */
  position: number;
  kind: AuditKind;
  /** Workflow id for transitions; procedure@version for deployments; `user:<id>` etc. for admin acts. */
  subject: string;
  /** Transition sequence within the instance (transitions only). */
  seq?: number;
  client?: string;
  actorId: string;
  /** ISO-8601 (UTC, milliseconds). */
  at: string;
  /**
   * The record's content. Transitions: `{procedure, version, definitionHash, event, actorRoles,
   * from, to, clauses, data?, effects, children}`; admin acts: `{act, …}`; deployments:
   * `{procedure, version, hash, yamlSha256}`.
   */
  body: Record<string, Json>;
  prevHash: string;
  hash: string;
}

/** What `appendAdminRecord` takes: the chain assigns position, time and hashes. */
export interface AdminRecordInput {
  kind: 'deployment' | 'admin';
  subject: string;
  actorId: string;
  client?: string;
  body: Record<string, Json>;
}

export interface AuditQuery {
  kind?: AuditKind;
  subject?: string;
  client?: string;
  /** Entries after this position (paging). */
  afterPosition?: number;
  /** At most this many (default: all). */
  limit?: number;
}

export type AuditProblemKind =
  /** The record's content no longer matches its hash. */
  | 'altered'
  /** Positions are missing from the chain (deleted records). */
  | 'missing'
  /** The record is intact but was written at another position. */
  | 'reordered'
  /** The record is intact but does not link to the record before it. */
  | 'broken_link'
  /** The chain head (last position and hash) does not match the end of the log (truncation). */
  | 'head_mismatch'
  /** The log disagrees with a signed checkpoint: history before it was rewritten (or cut). */
  | 'checkpoint_mismatch'
  /** A checkpoint whose signature does not verify with the checkpoint key (forged or foreign). */
  | 'checkpoint_invalid'
  /** A traced table (users, user_clients) changed in a transaction that appended no audit record. */
  | 'untraced_change';

export interface AuditProblem {
  position: number;
  kind: AuditProblemKind;
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  /** Records read. */
  checked: number;
  /** Position and hash of the last record (compare with a copy kept elsewhere to detect a rewrite). */
  head: { position: number; hash: string };
  /** Problems in chain order (at most 100; `truncated` when there were more). */
  problems: AuditProblem[];
  truncated: boolean;
  /** Signed checkpoints compared with the log (absent when the store has no checkpoint key). */
  checkpoints?: CheckpointCheck;
}

/** One signed statement "the chain of store `storeId` had `hash` at `position`" (see `checkpoints.ts`). */
export interface AuditCheckpoint {
  storeId: string;
  position: number;
  hash: string;
  /** When it was signed (ISO-8601 UTC). */
  at: string;
  /** First 16 hex digits of the SHA-256 of the raw public key. */
  keyId: string;
  /** Ed25519 signature (base64) of `checkpointMessage(…)`. */
  signature: string;
}

/** A signature made with the checkpoint key, and the key that verifies it. */
export interface KeySignature {
  keyId: string;
  /** Raw Ed25519 public key, base64. */
  publicKey: string;
  /** Ed25519 signature, base64. */
  signature: string;
}

export interface CheckpointCheck {
  /** Where the copy outside the database is kept. */
  file: string;
  keyId: string;
  /** Checkpoints of this store whose signature verified (file and database copies, deduplicated). */
  verified: number;
  /** The latest verified checkpoint. */
  last?: AuditCheckpoint;
  /** Checkpoints in the file that belong to other stores (ignored). */
  otherStores: number;
}

/** A security event for the audit log (see `security-audit.ts` for one function per kind). */
export interface SecurityRecordInput {
  kind: 'sign_in' | 'sign_in_failed' | 'sign_out' | 'refusal' | 'export';
  /** `user:<id>` for sign-ins, the workflow id for refusals, what was exported for exports. */
  subject: string;
  /** Who acted (canonical user id; for a failed sign-in the id that was tried). */
  actorId: string;
  client?: string;
  body: Record<string, Json>;
}

export interface NamedRecord {
  workflowId: string;
  seq: number;
  idx: number;
  name: string;
  fields: Record<string, Json>;
  at: string;
}

/** Runs `passwords.ts`'s verification elsewhere (e.g. a worker thread pool); default: in-line. */
export interface PasswordVerifier {
  verify(password: string, stored: string): Promise<boolean>;
  /** Spend a verification's cost for an unknown user. */
  burn(password: string): Promise<void>;
}

export interface RecordsStore extends AttachmentStore {
  /** `embedded` (PGlite) or `postgres` (a server via DATABASE_URL). */
  readonly backend: 'embedded' | 'postgres';

  /**
   * Write a transition's audit record, named records, notifications and links, once. `clientless`:
   * the procedure has no client field (definitions-level work, e.g. a deploy proposal), so its
   * notifications also reach admins, who see such instances (`access.ts`).
   */
  commit(commit: TransitionCommit, links: ChildLink[], opts?: { clientless?: boolean }): Promise<void>;
  /** Audit entries of one instance (transitions), in order. */
  auditOf(workflowId: string): Promise<AuditEntry[]>;
  /** Audit entries concerning a client, in order. */
  auditOfClient(client: string): Promise<AuditEntry[]>;
  /** Audit entries matching every given filter, in chain order. */
  audit(query?: AuditQuery): Promise<AuditEntry[]>;
  notificationsOf(workflowId: string): Promise<{ seq: number; recipient: string; en: string }[]>;
  /** What an instance told whom: notifications with their deliveries (`instance-notifications.ts`). */
  sentNotificationsOf(workflowId: string): Promise<SentNotification[]>;
  /** Named records (lending log, disclosure log, …) an instance wrote, in order. */
  recordsOf(workflowId: string): Promise<NamedRecord[]>;
  /** Rows per register the scope may see (`registers.ts`). */
  registerCounts(scope: R.RecordScope): Promise<Record<string, number>>;
  /** How many rows of a register match a filter. */
  registerTotal(name: string, filter: R.RecordFilter): Promise<number>;
  /** A page of a register's rows, newest first, with their transitions and corrections. */
  registerRows(
    name: string,
    filter: R.RecordFilter,
    page: { limit: number; after?: R.RecordCursor },
  ): Promise<{ rows: R.RegisterRow[]; next?: R.RecordCursor }>;
  /** One register row's register, client and procedure, by its key. */
  registerRow(key: {
    workflowId: string;
    seq: number;
    idx: number;
  }): Promise<{ name: string; client?: string; procedure?: string } | undefined>;
  /** A register's rows written for one client, corrections applied, newest first (`register-lookup.ts`). */
  lookupRows(name: string, client: string): Promise<LookupRow[]>;
  /** Add a correction to a row (never changing it), audited in the same transaction. */
  correctRecord(correction: R.CorrectionInput): Promise<R.RecordCorrection>;
  /** Append a deployment or administrative act to the chain. */
  appendAdminRecord(record: AdminRecordInput): Promise<AuditEntry>;
  /**
   * Append a security event (sign-in, failed sign-in, sign-out, refusal, export); build the input
   * with the functions of `security-audit.ts`.
   */
  appendSecurityRecord(record: SecurityRecordInput): Promise<AuditEntry>;
  /**
   * Recompute the whole chain (altered, reordered, missing records), compare it with the signed
   * checkpoints (a history rewritten since one of them), and report changes to users that no audit
   * record explains.
   */
  verifyAudit(): Promise<AuditVerification>;
  /**
   * Sign the current chain head now (the store also does every N appends and when closing).
   * Undefined when the store has no checkpoint key configured or the log is empty.
   */
  checkpoint(): Promise<AuditCheckpoint | undefined>;
  /**
   * Sign `message` with the checkpoint key (an evidence pack's manifest; callers use a message
   * prefix of their own, never a checkpoint's). Undefined when the store has no checkpoint key.
   */
  signWithCheckpointKey(message: Uint8Array): Promise<KeySignature | undefined>;
  /** The signed checkpoints and the public key (raw Ed25519, base64) that verifies them: for exports. */
  checkpoints(): Promise<{ publicKey?: string; keyId?: string; checkpoints: AuditCheckpoint[] }>;

  /**
   * Create a user (audited as `user.create`); refuses an existing id, a weak password, a malformed
   * role id, and — given `knownRoles` (`knownRoles(…)` of `worker/roles.ts`) — a role not in it.
   */
  createUser(user: NewUser, by: string, knownRoles?: RoleSet): Promise<User>;
  /** Replace the password (audited as `user.password`); ends the user's sessions. */
  setPassword(userId: string, password: string, by: string): Promise<void>;
  /**
   * The user when the password matches (argon2id) and the user is enabled, else undefined.
   * Unknown users cost the same hash computation, so timing does not reveal which ids exist.
   */
  checkPassword(userId: string, password: string, verifier?: PasswordVerifier): Promise<User | undefined>;
  getUser(userId: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
  /** Replace the user's client assignments (audited as `user.assign`). */
  assignClients(userId: string, clients: string[], by: string): Promise<User>;
  /** Replace the user's roles (audited as `user.roles`); `knownRoles` as for `createUser`. */
  setRoles(userId: string, roles: Role[], by: string, knownRoles?: RoleSet): Promise<User>;
  /** Disable or enable a user (audited); disabling ends the user's sessions. */
  setDisabled(userId: string, disabled: boolean, by: string): Promise<User>;

  /**
   * Change display name, roles, clients and/or enabled state at once (audited as one `user.update`
   * with before and after). Refuses disabling yourself (`SELF_DISABLE`) and leaving no enabled
   * administrator (`LAST_ADMIN`); nothing changes on a refusal.
   */
  updateUser(userId: string, patch: UserPatch, by: string, knownRoles?: RoleSet): Promise<User>;
  /** A one-time setup link's token while the store has no user (older ones void), else undefined. */
  issueSetupToken(ttlMs?: number): Promise<IssuedToken | undefined>;
  /** Whether no user exists yet (the first administrator is still to be created). */
  setupPending(): Promise<boolean>;
  /** Create the first administrator with a live setup token (`SETUP_DONE`, `TOKEN_INVALID`). */
  createFirstAdmin(token: string, user: Omit<NewUser, 'roles' | 'clients'>): Promise<User>;
  /** A one-time password-reset token for an enabled user (audited; the token is never stored). */
  issuePasswordReset(userId: string, by: string, ttlMs?: number): Promise<IssuedToken>;
  /** Set a new password with a reset token (`TOKEN_INVALID`, `WEAK_PASSWORD`); ends the user's sessions. */
  resetPassword(token: string, password: string): Promise<User>;

  createSession(userId: string, ttlMs: number): Promise<Session>;
  /** The session when it exists, has not expired and its user is enabled. */
  getSession(id: string): Promise<Session | undefined>;
  deleteSession(id: string): Promise<void>;
  /** End every session of a user ("sign out everywhere"); returns how many. */
  deleteSessionsOf(userId: string): Promise<number>;
  /** Remove expired sessions; returns how many. */
  deleteExpiredSessions(): Promise<number>;

  /**
   * Deploy an immutable version (audited as a `deployment`). The same hash again returns the
   * stored version and appends nothing; a different hash under an existing procedure@version is
   * refused (`DEFINITION_CONFLICT`); a hash that is not `hashProcedure(ir)` is refused.
   */
  deployDefinition(d: Omit<DefinitionVersion, 'deployedAt'>): Promise<DefinitionVersion>;
  definitionVersions(procedure?: string): Promise<DefinitionVersion[]>;
  definitionVersion(procedure: string, version: string): Promise<DefinitionVersion | undefined>;

  /** Business calendar versions, oldest first (`calendar-versions.ts`). */
  calendarVersions(): Promise<C.CalendarVersion[]>;
  calendarVersion(version: number): Promise<C.CalendarVersion | undefined>;
  newestCalendarVersion(): Promise<C.CalendarVersion | undefined>;
  /** Store the next calendar version (audited), or say why not; `shipped` is the base when none is stored. */
  postCalendarVersion(
    input: { text: string; by: string; file?: string },
    shipped: C.CalendarBase,
  ): Promise<C.PostCalendarResult>;

  /** The user's notifications (newest first, paged by `before`) and unread count (`notifications.ts`). */
  notificationsFor(user: User, query?: N.NotificationQuery): Promise<N.NotificationPage>;
  /** Mark the user's notifications read (these ids, or all); how many changed. */
  markNotificationsRead(userId: string, which: { ids: number[] } | { all: true }): Promise<number>;
  notificationPreferences(userId: string): Promise<Record<N.NotificationKind, N.NotificationChannel>>;
  setNotificationPreferences(
    userId: string,
    prefs: Partial<Record<N.NotificationKind, N.NotificationChannel>>,
  ): Promise<Record<N.NotificationKind, N.NotificationChannel>>;
  /** The user's e-mail address and language. */
  userContact(userId: string): Promise<N.UserContact | undefined>;
  /** Set the user's e-mail address (`null` removes it) and/or language (audited as `user.contact`). */
  setUserContact(
    userId: string,
    change: { email?: string | null; language?: N.Language },
    by: string,
  ): Promise<N.UserContact>;
  /** Lease due outbox rows for sending (`outbox.ts`). */
  claimOutbox(opts?: { now?: Date; leaseMs?: number; limit?: number }): Promise<N.OutboxBatchItem[]>;
  markOutboxSent(item: N.OutboxBatchItem, messageId: string): Promise<void>;
  markOutboxFailed(
    item: N.OutboxBatchItem,
    error: string,
    opts: { retryAt: Date; maxAttempts: number; permanent?: boolean },
  ): Promise<void>;
  /** Give back a claimed item that was not tried. */
  releaseOutbox(item: N.OutboxBatchItem): Promise<void>;
  /** Outbox rows not yet sent (pending, retrying, failed), newest first. */
  unsentOutbox(limit?: number): Promise<N.OutboxEntry[]>;

  /**
   * Run read-only queries (e.g. the dashboard's, `dashboard-queries.ts`) in one read-only
   * transaction: one consistent view, and no write can slip in.
   */
  readOnly<T>(read: (db: SqlQueryable) => Promise<T>): Promise<T>;

  close(): Promise<void>;
}
