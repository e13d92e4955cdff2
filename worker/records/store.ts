/**
 * The records store: what outlives Temporal's retention — the hash-chained audit log of every
 * accepted transition, deployment and administrative act; the named records a procedure writes
 * (lending log, disclosure log, …), the notifications it sends and the links between instances;
 * users, sessions and deployed definition versions. Contract: `types.ts`.
 *
 * `openStore` picks the engine: PostgreSQL when given a `databaseUrl`, else the embedded
 * PostgreSQL server that Custodia starts itself in `dataDir` (`embedded-store.ts`; any number of
 * processes), else (`dataDir: null`) PGlite in memory. Same SQL, same schema (`schema.ts`,
 * migrated at open), same behaviour.
 */
import type { ChildLink, TransitionCommit } from '../../workflows/api.ts';
import type { Json } from '../../workflows/core/ir.ts';
import * as attachments from './attachments.ts';
import {
  appendAudit,
  appendAuditBatch,
  existingTransitions,
  lockChainHead,
  queryAudit,
  transitionKey,
  verifyAuditChain,
  type AuditInput,
} from './audit.ts';
import { untracedChangeProblems } from './change-history.ts';
import { Checkpointer, type CheckpointOptions } from './checkpoints.ts';
import { GroupCommitter, type GroupCommitOptions, type GroupCommitStats } from './group-commit.ts';
import { auditCommitBatch } from '../metrics.ts';
import * as calendars from './calendar-versions.ts';
import * as definitions from './definitions.ts';
import * as notifications from './notifications.ts';
import * as outbox from './outbox.ts';
import * as registers from './registers.ts';
import { lookupRows } from './register-lookup.ts';
import { migrate } from './schema.ts';
import type { RequestOrigin } from './security-audit.ts';
import { openEmbeddedServerClient } from './embedded-store.ts';
import type { EmbeddedRole } from './embedded-server.ts';
import { openPgliteClient, openPostgresClient, type SqlClient, type SqlQueryable } from './sql.ts';
import type {
  AuditProblem,
  AuditVerification,
  NamedRecord,
  PasswordVerifier,
  RecordsStore,
  SecurityRecordInput,
  User,
} from './types.ts';
import type { NotificationQuery, OutboxBatchItem } from './notification-types.ts';
import * as users from './users.ts';
import * as tokens from './user-tokens.ts';
import { sentNotificationsOf, type SentNotification } from './instance-notifications.ts';

export type { RecordsStore } from './types.ts';

export interface OpenStoreOptions {
  /** PostgreSQL connection string; when set, `dataDir` is ignored. */
  databaseUrl?: string;
  /** Directory of the embedded store (created if missing); `null` for an in-memory one. */
  dataDir?: string | null;
  /**
   * Signed checkpoints of the audit chain (`checkpoints.ts`): the key and the file outside the
   * database. Absent or null: none (`recordsStoreOptions()` gives the configured ones).
   */
  checkpoints?: CheckpointOptions | null;
  /**
   * The embedded server (`dataDir`): `service` for a long-lived process others share it with
   * (`npm start`, `custodia serve`, workers), `command` (default) for a CLI command.
   */
  embeddedRole?: EmbeddedRole;
  /** Group commit of transitions (`group-commit.ts`); on by default (off: benchmarks and tests). */
  groupCommit?: GroupCommitOptions;
}

/** Open (and migrate) the records store. */
export async function openStore(opts: OpenStoreOptions): Promise<RecordsStore> {
  const sql = opts.databaseUrl
    ? await openPostgresClient(opts.databaseUrl)
    : opts.dataDir
      ? await openEmbeddedServerClient(opts.dataDir, opts.embeddedRole ?? 'command')
      : await openPgliteClient(null);
  try {
    return await createRecordsStore(sql, {
      checkpoints: opts.checkpoints,
      groupCommit: opts.groupCommit,
      ...(opts.dataDir && !opts.databaseUrl ? { backend: 'embedded' as const } : {}),
    });
  } catch (err) {
    await sql.close();
    throw err;
  }
}

/** The embedded store in `dataDir`, or in memory when null. */
export function openEmbeddedStore(dataDir: string | null): Promise<RecordsStore> {
  return openStore({ dataDir });
}

/** A store over an open SQL client (migrated first); closing the store closes the client. */
export async function createRecordsStore(
  sql: SqlClient,
  opts: {
    checkpoints?: CheckpointOptions | null;
    backend?: 'embedded' | 'postgres';
    groupCommit?: GroupCommitOptions;
  } = {},
): Promise<RecordsStore> {
  await migrate(sql);
  return new SqlRecordsStore(
    sql,
    opts.checkpoints ? new Checkpointer(sql, opts.checkpoints) : undefined,
    opts.backend,
    opts.groupCommit,
  );
}

/** The group committer's counts of a store `createRecordsStore` made (tests, benchmarks). */
export function groupCommitStats(store: RecordsStore): GroupCommitStats {
  if (!(store instanceof SqlRecordsStore)) throw new Error('not a SQL records store');
  return { ...store.committer.stats };
}

/** Group commit on or off from the next commit on (`npm run bench -- --before group-commit`). */
export function setGroupCommit(store: RecordsStore, enabled: boolean): void {
  if (!(store instanceof SqlRecordsStore)) throw new Error('not a SQL records store');
  store.committer.setEnabled(enabled);
}

/** One transition to commit: what `RecordsStore.commit` was given. */
interface PendingCommit {
  c: TransitionCommit;
  links: ChildLink[];
  clientless: boolean;
}

const MAX_PROBLEMS = 100;

class SqlRecordsStore implements RecordsStore {
  readonly backend;
  readonly committer: GroupCommitter<PendingCommit>;

  constructor(
    private readonly sql: SqlClient,
    private readonly checkpointer?: Checkpointer,
    backend?: 'embedded' | 'postgres',
    groupCommit?: GroupCommitOptions,
  ) {
    this.backend = backend ?? (sql.engine === 'postgres' ? ('postgres' as const) : ('embedded' as const));
    this.committer = new GroupCommitter((ps) => this.commitTransitions(ps), {
      onTransaction: (n) => auditCommitBatch.observe({}, n),
      ...groupCommit,
    });
  }

  /** `result` of something that appended to the chain (counted towards the next checkpoint). */
  private async appended<T>(result: Promise<T>): Promise<T> {
    const value = await result;
    this.checkpointer?.noteAppends();
    return value;
  }

  commit(c: TransitionCommit, links: ChildLink[], opts: { clientless?: boolean } = {}): Promise<void> {
    return this.appended(this.committer.submit({ c, links, clientless: opts.clientless ?? false }));
  }

  /**
   * Commits in one transaction (one alone, or the group committer's batch, in arrival order): the
   * head locked once, the ones already written (a retry whose first attempt committed, a concurrent
   * attempt that just did, or the same one earlier in the batch) found by one query under the lock
   * and skipped, every record appended by one INSERT and one move of the head, then each one's
   * effects. No check before the transaction: it would cost every commit a round trip for the rare
   * retry.
   */
  private async commitTransitions(batch: PendingCommit[]): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const head = await lockChainHead(tx);
      const done = await existingTransitions(
        tx,
        batch.map((p) => ({ workflowId: p.c.workflowId, seq: p.c.record.seq })),
      );
      const todo: PendingCommit[] = [];
      for (const p of batch) {
        const key = transitionKey(p.c.workflowId, p.c.record.seq);
        if (done.has(key)) continue;
        done.add(key);
        todo.push(p);
      }
      await appendAuditBatch(
        tx,
        head,
        todo.flatMap((p) => auditInputsOf(p.c, p.links)),
      );
      await writeRecordEffects(
        tx,
        todo.map((p) => p.c),
      );
      for (const p of todo) await writeEffects(tx, p.c, p.links, p.clientless);
    });
  }

  auditOf(workflowId: string) {
    return queryAudit(this.sql, { kind: 'transition', subject: workflowId });
  }

  auditOfClient(client: string) {
    return queryAudit(this.sql, { client });
  }

  audit(query = {}) {
    return queryAudit(this.sql, query);
  }

  async notificationsOf(workflowId: string): Promise<{ seq: number; recipient: string; en: string }[]> {
    const rows = await this.sql.query<{ seq: number; recipient: string; message_en: string }>(
      `SELECT seq, recipient, message_en FROM notifications WHERE workflow_id = $1 ORDER BY seq, idx`,
      [workflowId],
    );
    return rows.map((row) => ({ seq: row.seq, recipient: row.recipient, en: row.message_en }));
  }

  sentNotificationsOf(workflowId: string): Promise<SentNotification[]> {
    return sentNotificationsOf(this.sql, workflowId);
  }

  async recordsOf(workflowId: string): Promise<NamedRecord[]> {
    const rows = await this.sql.query<{
      seq: number;
      idx: number;
      name: string;
      fields: Record<string, Json>;
      at: Date;
    }>(`SELECT seq, idx, name, fields, at FROM procedure_records WHERE workflow_id = $1 ORDER BY seq, idx`, [
      workflowId,
    ]);
    return rows.map((r) => ({ workflowId, ...r, at: new Date(r.at).toISOString() }));
  }

  registerCounts(scope: registers.RecordScope) {
    return registers.registerCounts(this.sql, scope);
  }
  registerTotal(name: string, filter: registers.RecordFilter) {
    return registers.registerTotal(this.sql, name, filter);
  }
  registerRows(
    name: string,
    filter: registers.RecordFilter,
    page: Parameters<RecordsStore['registerRows']>[2],
  ) {
    return registers.registerRows(this.sql, name, filter, page);
  }
  registerRow(key: { workflowId: string; seq: number; idx: number }) {
    return registers.registerRow(this.sql, key);
  }
  lookupRows(name: string, client: string) {
    return lookupRows(this.sql, name, client);
  }
  correctRecord(correction: registers.CorrectionInput) {
    return this.appended(registers.correctRecord(this.sql, correction));
  }

  appendAdminRecord(record: Parameters<RecordsStore['appendAdminRecord']>[0]) {
    return this.appended(
      this.sql.transaction(async (tx) =>
        appendAudit(tx, await lockChainHead(tx), { ...record, at: new Date().toISOString() }),
      ),
    );
  }

  appendSecurityRecord(record: SecurityRecordInput) {
    return this.appended(
      this.sql.transaction(async (tx) =>
        appendAudit(tx, await lockChainHead(tx), { ...record, at: new Date().toISOString() }),
      ),
    );
  }

  async verifyAudit(): Promise<AuditVerification> {
    const v = await verifyAuditChain(this.sql);
    const report = (p: AuditProblem): void => {
      if (v.problems.length < MAX_PROBLEMS) v.problems.push(p);
      else v.truncated = true;
    };
    if (this.checkpointer) v.checkpoints = await this.checkpointer.check(v, report);
    for (const p of await untracedChangeProblems(this.sql, MAX_PROBLEMS)) report(p);
    v.ok = v.problems.length === 0 && !v.truncated;
    return v;
  }

  async checkpoint() {
    if (!this.checkpointer) return undefined;
    return this.checkpointer.take();
  }

  async signWithCheckpointKey(message: Uint8Array) {
    return this.checkpointer?.sign(message);
  }

  async checkpoints() {
    return this.checkpointer ? this.checkpointer.list() : { checkpoints: [] };
  }

  createUser(
    user: Parameters<RecordsStore['createUser']>[0],
    by: string,
    known?: Parameters<RecordsStore['createUser']>[2],
  ) {
    return this.appended(users.createUser(this.sql, user, by, known));
  }
  setPassword(userId: string, password: string, by: string) {
    return this.appended(users.setPassword(this.sql, userId, password, by));
  }
  checkPassword(userId: string, password: string, verifier?: PasswordVerifier) {
    return users.checkPassword(this.sql, userId, password, verifier);
  }
  getUser(userId: string) {
    return users.getUser(this.sql, userId);
  }
  listUsers() {
    return users.listUsers(this.sql);
  }
  assignClients(userId: string, clients: string[], by: string) {
    return this.appended(users.assignClients(this.sql, userId, clients, by));
  }
  setRoles(
    userId: string,
    roles: Parameters<RecordsStore['setRoles']>[1],
    by: string,
    known?: Parameters<RecordsStore['setRoles']>[3],
  ) {
    return this.appended(users.setRoles(this.sql, userId, roles, by, known));
  }
  setDisabled(userId: string, disabled: boolean, by: string) {
    return this.appended(users.setDisabled(this.sql, userId, disabled, by));
  }
  updateUser(
    userId: string,
    patch: Parameters<RecordsStore['updateUser']>[1],
    by: string,
    known?: Parameters<RecordsStore['updateUser']>[3],
  ) {
    return this.appended(users.updateUser(this.sql, userId, patch, by, known));
  }
  issueSetupToken(ttlMs?: number) {
    return tokens.issueSetupToken(this.sql, 'custodia', ttlMs);
  }
  setupPending() {
    return tokens.setupPending(this.sql);
  }
  createFirstAdmin(token: string, user: Parameters<RecordsStore['createFirstAdmin']>[1]) {
    return this.appended(tokens.createFirstAdmin(this.sql, token, user));
  }
  issuePasswordReset(userId: string, by: string, ttlMs?: number) {
    return this.appended(tokens.issuePasswordReset(this.sql, userId, by, ttlMs));
  }
  resetPassword(token: string, password: string) {
    return this.appended(tokens.resetPassword(this.sql, token, password));
  }

  createSession(userId: string, ttlMs: number) {
    return users.createSession(this.sql, userId, ttlMs);
  }
  getSession(id: string) {
    return users.getSession(this.sql, id);
  }
  deleteSession(id: string) {
    return users.deleteSession(this.sql, id);
  }
  deleteSessionsOf(userId: string) {
    return users.deleteSessionsOf(this.sql, userId);
  }
  deleteExpiredSessions() {
    return users.deleteExpiredSessions(this.sql);
  }

  notificationsFor(user: User, q?: NotificationQuery) {
    return notifications.notificationsFor(this.sql, user, q);
  }
  markNotificationsRead(userId: string, which: { ids: number[] } | { all: true }) {
    return notifications.markNotificationsRead(this.sql, userId, which);
  }
  notificationPreferences(userId: string) {
    return notifications.notificationPreferences(this.sql, userId);
  }
  setNotificationPreferences(
    userId: string,
    prefs: Parameters<RecordsStore['setNotificationPreferences']>[1],
  ) {
    return notifications.setNotificationPreferences(this.sql, userId, prefs);
  }
  userContact(userId: string) {
    return notifications.userContact(this.sql, userId);
  }
  setUserContact(userId: string, change: Parameters<RecordsStore['setUserContact']>[1], by: string) {
    return this.appended(notifications.setUserContact(this.sql, userId, change, by));
  }
  claimOutbox(opts?: outbox.ClaimOptions) {
    return outbox.claimOutbox(this.sql, opts);
  }
  markOutboxSent(item: OutboxBatchItem, messageId: string) {
    return outbox.markOutboxSent(this.sql, item, messageId);
  }
  markOutboxFailed(
    item: OutboxBatchItem,
    error: string,
    opts: Parameters<RecordsStore['markOutboxFailed']>[2],
  ) {
    return outbox.markOutboxFailed(this.sql, item, error, opts);
  }
  releaseOutbox(item: OutboxBatchItem) {
    return outbox.releaseOutbox(this.sql, item);
  }
  unsentOutbox(limit?: number) {
    return outbox.unsentOutbox(this.sql, limit);
  }

  deployDefinition(d: Parameters<RecordsStore['deployDefinition']>[0]) {
    return this.appended(definitions.deployDefinition(this.sql, d));
  }
  definitionVersions(procedure?: string) {
    return definitions.definitionVersions(this.sql, procedure);
  }
  calendarVersions() {
    return calendars.calendarVersions(this.sql);
  }
  calendarVersion(version: number) {
    return calendars.calendarVersion(this.sql, version);
  }
  newestCalendarVersion() {
    return calendars.newestCalendarVersion(this.sql);
  }
  postCalendarVersion(
    input: Parameters<RecordsStore['postCalendarVersion']>[0],
    shipped: Parameters<RecordsStore['postCalendarVersion']>[1],
  ) {
    return this.appended(calendars.postCalendarVersion(this.sql, input, shipped));
  }
  definitionVersion(procedure: string, version: string) {
    return definitions.definitionVersion(this.sql, procedure, version);
  }

  putAttachment(a: attachments.NewAttachment) {
    return this.appended(attachments.putAttachment(this.sql, a));
  }
  attachmentOf(workflowId: string, sha256: string) {
    return attachments.attachmentOf(this.sql, workflowId, sha256);
  }
  attachmentsOf(workflowId: string) {
    return attachments.attachmentsOf(this.sql, workflowId);
  }
  attachmentsOfClient(q: Parameters<RecordsStore['attachmentsOfClient']>[0]) {
    return attachments.attachmentsOfClient(this.sql, q);
  }
  attachmentContent(sha256: string) {
    return attachments.attachmentContent(this.sql, sha256);
  }
  recordAttachmentRead(a: attachments.StoredAttachment, reader: string, origin?: RequestOrigin) {
    return this.appended(attachments.recordAttachmentRead(this.sql, a, reader, origin));
  }

  readOnly<T>(read: (db: SqlQueryable) => Promise<T>): Promise<T> {
    return this.sql.transaction(async (tx) => {
      await tx.exec('SET TRANSACTION READ ONLY');
      return read(tx);
    });
  }

  async close() {
    // Shutdown checkpoint: what this process appended since its last one gets signed.
    try {
      await this.checkpointer?.idle();
      if (this.checkpointer?.pending) await this.checkpointer.take();
    } catch (err) {
      console.error(`custodia: audit checkpoint at close: ${(err as Error).message}`);
    } finally {
      await this.sql.close();
    }
  }
}

/** The audit records of one transition: its own, then one per linked instance not started. */
function auditInputsOf(c: TransitionCommit, links: ChildLink[]): AuditInput[] {
  const r = c.record;
  const body: Record<string, Json> = {
    procedure: c.procedure,
    version: c.version,
    definitionHash: c.hash,
    event: r.event,
    actorRoles: r.actor.roles,
    from: r.from,
    to: r.to,
    clauses: r.clauses,
    effects: c.effects,
    children: links.map((l) => ({
      workflowId: l.workflowId,
      procedure: l.procedure,
      ...(l.failed ? { failed: l.failed } : {}),
    })),
  };
  if (r.data !== undefined) body.data = r.data;
  const common = { subject: c.workflowId, seq: r.seq, client: c.client, actorId: r.actor.id, at: r.at };
  return [
    { kind: 'transition', ...common, body },
    // A linked instance not started (its input refused): a record of its own, never lost.
    ...links
      .filter((l) => l.failed)
      .map((l): AuditInput => ({
        kind: 'refusal',
        ...common,
        body: {
          code: 'LINKED_START_REFUSED',
          reason: l.failed!,
          action: 'start',
          procedure: l.procedure,
          workflowId: l.workflowId,
        },
      })),
  ];
}

/**
 * The `record` effects of commits written in one transaction, in one INSERT: a row is keyed by its
 * transition and the effect's position among the transition's effects (`idx`, from 1); one already
 * there (a retry whose first attempt committed) is kept as it is.
 */
async function writeRecordEffects(tx: SqlQueryable, commits: readonly TransitionCommit[]): Promise<void> {
  const rows = commits.flatMap((c) =>
    c.effects.flatMap((e, i) =>
      e.kind === 'record'
        ? [
            {
              workflow_id: c.workflowId,
              seq: c.record.seq,
              idx: i + 1,
              name: e.record,
              fields: e.fields,
              at: c.record.at,
              client: c.client ?? null,
              procedure: c.procedure,
            },
          ]
        : [],
    ),
  );
  if (!rows.length) return;
  await tx.query(
    `INSERT INTO procedure_records (workflow_id, seq, idx, name, fields, at, client, procedure)
     SELECT r.workflow_id, r.seq, r.idx, r.name, r.fields, r.at, r.client, r.procedure
       FROM jsonb_to_recordset($1::jsonb) AS r(workflow_id text, seq integer, idx integer, name text,
            fields jsonb, at timestamptz, client text, procedure text)
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

/** A commit's other effects (notifications, with their deliveries) and its children's links. */
async function writeEffects(
  tx: SqlQueryable,
  c: TransitionCommit,
  links: ChildLink[],
  clientless: boolean,
): Promise<void> {
  const { seq, at } = c.record;
  let idx = 0;
  for (const e of c.effects) {
    idx++;
    if (e.kind === 'notify') {
      const [row] = await tx.query<{ id: number }>(
        `INSERT INTO notifications (workflow_id, seq, idx, recipient, message_zh, message_en, at, procedure, client)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING id`,
        [c.workflowId, seq, idx, e.to, e.message.zh, e.message.en, at, c.procedure, c.client ?? null],
      );
      if (row)
        await notifications.fanOutNotification(tx, {
          id: Number(row.id),
          to: e.to,
          kind: 'message',
          ...(c.client ? { client: c.client } : { clientless }),
        });
    }
  }
  let li = 0;
  for (const link of links.filter((l) => !l.failed))
    await tx.query(
      `INSERT INTO instance_links (parent_workflow_id, seq, idx, child_workflow_id, procedure)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [c.workflowId, seq, ++li, link.workflowId, link.procedure],
    );
}
