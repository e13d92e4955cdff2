/**
 * The records store: what outlives Temporal's retention — the audit log of every accepted
 * transition, the named records a procedure writes (lending log, disclosure log, …), the
 * notifications it sends, and the links between instances.
 *
 * Embedded by default (PGlite: PostgreSQL compiled to WASM, in-process, persisted in a
 * directory); the SQL is plain PostgreSQL so a server can take over later (`DATABASE_URL`).
 * Every write is idempotent by `(workflow_id, seq[, idx])`: an activity retry never duplicates.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { ChildLink, TransitionCommit } from '../../workflows/api.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_records (
  workflow_id text NOT NULL,
  seq integer NOT NULL,
  procedure text NOT NULL,
  version text NOT NULL,
  definition_hash text NOT NULL,
  client text,
  event text NOT NULL,
  actor_id text NOT NULL,
  actor_roles jsonb NOT NULL,
  at timestamptz NOT NULL,
  from_states jsonb NOT NULL,
  to_states jsonb NOT NULL,
  clauses jsonb NOT NULL,
  data jsonb,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, seq)
);
CREATE INDEX IF NOT EXISTS audit_records_client ON audit_records (client, at);
CREATE TABLE IF NOT EXISTS procedure_records (
  workflow_id text NOT NULL,
  seq integer NOT NULL,
  idx integer NOT NULL,
  name text NOT NULL,
  fields jsonb NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (workflow_id, seq, idx)
);
CREATE TABLE IF NOT EXISTS notifications (
  workflow_id text NOT NULL,
  seq integer NOT NULL,
  idx integer NOT NULL,
  recipient text NOT NULL,
  message_zh text NOT NULL,
  message_en text NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (workflow_id, seq, idx)
);
CREATE TABLE IF NOT EXISTS instance_links (
  parent_workflow_id text NOT NULL,
  seq integer NOT NULL,
  idx integer NOT NULL,
  child_workflow_id text NOT NULL,
  procedure text NOT NULL,
  PRIMARY KEY (parent_workflow_id, seq, idx)
);
`;

export interface AuditRecordRow {
  workflowId: string;
  seq: number;
  procedure: string;
  version: string;
  event: string;
  actorId: string;
  at: string;
  from: string[];
  to: string[];
  clauses: string[];
}

export interface RecordsStore {
  /** Write a transition's audit record, named records, notifications and links in one transaction. */
  commit(commit: TransitionCommit, links: ChildLink[]): Promise<void>;
  auditOf(workflowId: string): Promise<AuditRecordRow[]>;
  notificationsOf(workflowId: string): Promise<{ seq: number; recipient: string; en: string }[]>;
  close(): Promise<void>;
}

/** Open the embedded store in `dataDir` (created if missing), or in memory when `dataDir` is null. */
export async function openEmbeddedStore(dataDir: string | null): Promise<RecordsStore> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = dataDir ? new PGlite(dataDir) : new PGlite();
  await db.exec(SCHEMA);
  return new SqlRecordsStore(db);
}

class SqlRecordsStore implements RecordsStore {
  constructor(private readonly db: PGlite) {}

  async commit(c: TransitionCommit, links: ChildLink[]): Promise<void> {
    const r = c.record;
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO audit_records (workflow_id, seq, procedure, version, definition_hash, client, event,
           actor_id, actor_roles, at, from_states, to_states, clauses, data)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) ON CONFLICT DO NOTHING`,
        [
          c.workflowId,
          r.seq,
          c.procedure,
          c.version,
          c.hash,
          c.client ?? null,
          r.event,
          r.actor.id,
          JSON.stringify(r.actor.roles),
          r.at,
          JSON.stringify(r.from),
          JSON.stringify(r.to),
          JSON.stringify(r.clauses),
          r.data === undefined ? null : JSON.stringify(r.data),
        ],
      );
      let idx = 0;
      for (const e of c.effects) {
        idx++;
        if (e.kind === 'record')
          await tx.query(
            `INSERT INTO procedure_records (workflow_id, seq, idx, name, fields, at) VALUES ($1,$2,$3,$4,$5,$6)
             ON CONFLICT DO NOTHING`,
            [c.workflowId, r.seq, idx, e.record, JSON.stringify(e.fields), r.at],
          );
        else if (e.kind === 'notify')
          await tx.query(
            `INSERT INTO notifications (workflow_id, seq, idx, recipient, message_zh, message_en, at)
             VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING`,
            [c.workflowId, r.seq, idx, e.to, e.message.zh, e.message.en, r.at],
          );
      }
      let li = 0;
      for (const link of links)
        await tx.query(
          `INSERT INTO instance_links (parent_workflow_id, seq, idx, child_workflow_id, procedure)
           VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING`,
          [c.workflowId, r.seq, ++li, link.workflowId, link.procedure],
        );
    });
  }

  async auditOf(workflowId: string): Promise<AuditRecordRow[]> {
    const res = await this.db.query<{
      workflow_id: string;
      seq: number;
      procedure: string;
      version: string;
      event: string;
      actor_id: string;
      at: Date;
      from_states: string[];
      to_states: string[];
      clauses: string[];
    }>(`SELECT * FROM audit_records WHERE workflow_id = $1 ORDER BY seq`, [workflowId]);
    return res.rows.map((row) => ({
      workflowId: row.workflow_id,
      seq: row.seq,
      procedure: row.procedure,
      version: row.version,
      event: row.event,
      actorId: row.actor_id,
      at: new Date(row.at).toISOString(),
      from: row.from_states,
      to: row.to_states,
      clauses: row.clauses,
    }));
  }

  async notificationsOf(workflowId: string): Promise<{ seq: number; recipient: string; en: string }[]> {
    const res = await this.db.query<{ seq: number; recipient: string; message_en: string }>(
      `SELECT seq, recipient, message_en FROM notifications WHERE workflow_id = $1 ORDER BY seq, idx`,
      [workflowId],
    );
    return res.rows.map((row) => ({ seq: row.seq, recipient: row.recipient, en: row.message_en }));
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
