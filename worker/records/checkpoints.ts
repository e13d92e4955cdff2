/**
 * Signed checkpoints of the audit chain head. Anyone who can write the database can rewrite a
 * record and recompute every hash after it (the chain alone cannot tell); a checkpoint — "store S
 * had hash H at position P", signed with an Ed25519 key kept outside the database
 * (`checkpoint-key.ts`) — can be neither moved nor forged by them. Each checkpoint is appended to a
 * file outside the database (JSON lines, mode 0600; the authoritative copy) and to the
 * `audit_checkpoints` table (a convenience copy, append-only), and goes into audit exports.
 *
 * When: after every `every` appends by this process (default 100), on demand
 * (`store.checkpoint()`, `custodia audit checkpoint`) and when a store that appended closes
 * (shutdown). Before signing, the records since the previous checkpoint are recomputed and must
 * link to it, so a checkpoint never blesses a history that was rewritten in between.
 *
 * `verifyAudit` compares every checkpoint with the log: a record whose stored hash differs from a
 * checkpoint's (or a log that ends before it) means the history up to that checkpoint was
 * rewritten; a checkpoint whose signature fails was forged.
 */
import { sign, verify } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { auditHash, GENESIS_HASH, type ChainHead } from './audit.ts';
import { loadOrCreateCheckpointKey, readCheckpointKey, type CheckpointKey } from './checkpoint-key.ts';
import { RecordsError } from './errors.ts';
import type { SqlQueryable } from './sql.ts';
import type {
  AuditCheckpoint,
  AuditKind,
  AuditProblem,
  AuditVerification,
  CheckpointCheck,
  KeySignature,
} from './types.ts';
import type { Json } from '../../workflows/core/ir.ts';

export interface CheckpointOptions {
  /** The Ed25519 private key (PEM); created with mode 0600 on first use. */
  keyFile: string;
  /** The checkpoint file outside the database (JSON lines); created with mode 0600. */
  logFile: string;
  /** Checkpoint after this many appends by this process; 0 = only on demand and at close. Default 100. */
  every?: number;
}

export const DEFAULT_CHECKPOINT_EVERY = 100;

/** The bytes a checkpoint's signature covers. */
export function checkpointMessage(c: Pick<AuditCheckpoint, 'storeId' | 'position' | 'hash' | 'at'>): Buffer {
  return Buffer.from(`custodia-audit-checkpoint/1\n${c.storeId}\n${c.position}\n${c.hash}\n${c.at}`, 'utf8');
}

/** Whether `c` is signed by `key`. */
export function checkpointSignedBy(c: AuditCheckpoint, key: CheckpointKey): boolean {
  if (c.keyId !== key.keyId) return false;
  try {
    return verify(null, checkpointMessage(c), key.publicKey, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}

export async function storeId(db: SqlQueryable): Promise<string> {
  const [row] = await db.query<{ store_id: string }>('SELECT store_id FROM store_identity WHERE id = 1');
  if (!row) throw new Error('records store: store_identity is missing (schema not migrated?)');
  return row.store_id;
}

function isCheckpoint(v: unknown): v is AuditCheckpoint {
  const c = v as Partial<AuditCheckpoint> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.storeId === 'string' &&
    Number.isSafeInteger(c.position) &&
    typeof c.hash === 'string' &&
    typeof c.at === 'string' &&
    typeof c.keyId === 'string' &&
    typeof c.signature === 'string'
  );
}

/** The checkpoints in the file (unreadable lines — e.g. a torn last write — are skipped). */
export function readCheckpointFile(logFile: string): AuditCheckpoint[] {
  if (!existsSync(logFile)) return [];
  const out: AuditCheckpoint[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const v: unknown = JSON.parse(line);
      if (isCheckpoint(v)) out.push(v);
    } catch {
      // skipped
    }
  }
  return out;
}

async function databaseCheckpoints(db: SqlQueryable, id: string): Promise<AuditCheckpoint[]> {
  const rows = await db.query<{
    position: number;
    hash: string;
    at: Date;
    key_id: string;
    signature: string;
  }>('SELECT position, hash, at, key_id, signature FROM audit_checkpoints ORDER BY position');
  return rows.map((r) => ({
    storeId: id,
    position: r.position,
    hash: r.hash,
    at: new Date(r.at).toISOString(),
    keyId: r.key_id,
    signature: r.signature,
  }));
}

interface Gathered {
  id: string;
  /** This store's checkpoints from the file and the database, one per signature, by position. */
  mine: { c: AuditCheckpoint; fromFile: boolean }[];
  otherStores: number;
}

async function gather(db: SqlQueryable, logFile: string): Promise<Gathered> {
  const id = await storeId(db);
  const fromFile = readCheckpointFile(logFile);
  const bySignature = new Map<string, { c: AuditCheckpoint; fromFile: boolean }>();
  for (const c of fromFile) if (c.storeId === id) bySignature.set(c.signature, { c, fromFile: true });
  for (const c of await databaseCheckpoints(db, id))
    if (!bySignature.has(c.signature)) bySignature.set(c.signature, { c, fromFile: false });
  const mine = [...bySignature.values()].sort((a, b) => a.c.position - b.c.position);
  return { id, mine, otherStores: fromFile.filter((c) => c.storeId !== id).length };
}

/** Takes and checks the checkpoints of one store. */
export class Checkpointer {
  private appends = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: SqlQueryable,
    readonly options: CheckpointOptions,
  ) {}

  private get every(): number {
    return this.options.every ?? DEFAULT_CHECKPOINT_EVERY;
  }

  /** Count `n` appends by this process; every `every` of them, checkpoint in the background. */
  noteAppends(n = 1): void {
    this.appends += n;
    if (this.every > 0 && this.appends >= this.every)
      this.take().catch((err: unknown) =>
        console.error(`custodia: audit checkpoint: ${(err as Error).message}`),
      );
  }

  /** Resolves when no checkpoint is being taken (before closing the database). */
  async idle(): Promise<void> {
    await this.queue;
  }

  /** Whether this process appended since its last checkpoint. */
  get pending(): boolean {
    return this.appends > 0;
  }

  /**
   * Sign the current chain head (one checkpoint at a time per process). Returns the new
   * checkpoint, the latest one when the head has not moved, or undefined for an empty log. Refuses
   * (`CHECKPOINT_FAILED`) when the records since the previous checkpoint do not verify.
   */
  take(): Promise<AuditCheckpoint | undefined> {
    const run = this.queue.then(() => this.takeNow());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async takeNow(): Promise<AuditCheckpoint | undefined> {
    this.appends = 0;
    const key = loadOrCreateCheckpointKey(this.options.keyFile);
    const { id, mine } = await gather(this.db, this.options.logFile);
    const valid = mine.map((m) => m.c).filter((c) => checkpointSignedBy(c, key));
    const last = valid.at(-1);
    const [head] = await this.db.query<ChainHead>('SELECT position, hash FROM audit_chain_head WHERE id = 1');
    if (!head || head.position === 0) return undefined;
    if (last && last.position === head.position && last.hash === head.hash) return last;
    await verifySince(this.db, last, head);
    const body = { storeId: id, position: head.position, hash: head.hash, at: new Date().toISOString() };
    const c: AuditCheckpoint = {
      ...body,
      keyId: key.keyId,
      signature: sign(null, checkpointMessage(body), key.privateKey!).toString('base64'),
    };
    mkdirSync(path.dirname(this.options.logFile), { recursive: true, mode: 0o700 });
    appendFileSync(this.options.logFile, JSON.stringify(c) + '\n', { mode: 0o600 });
    await this.db.query(
      `INSERT INTO audit_checkpoints (position, hash, at, key_id, signature) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [c.position, c.hash, c.at, c.keyId, c.signature],
    );
    return c;
  }

  /** Sign `message` with the checkpoint key (created on first use, as for a checkpoint). */
  sign(message: Uint8Array): KeySignature {
    const key = loadOrCreateCheckpointKey(this.options.keyFile);
    return {
      keyId: key.keyId,
      publicKey: key.publicKeyRaw,
      signature: sign(null, message, key.privateKey!).toString('base64'),
    };
  }

  /** This store's checkpoints (file and database) and the public key, for exports. */
  async list(): Promise<{ publicKey?: string; keyId?: string; checkpoints: AuditCheckpoint[] }> {
    const key = readCheckpointKey(this.options.keyFile);
    const { mine } = await gather(this.db, this.options.logFile);
    return {
      publicKey: key?.publicKeyRaw,
      keyId: key?.keyId,
      checkpoints: mine.map((m) => m.c).filter((c) => !key || checkpointSignedBy(c, key)),
    };
  }

  /** Compare the checkpoints with the log; adds problems to `v` (which `verifyAuditChain` made). */
  async check(v: AuditVerification, report: (p: AuditProblem) => void): Promise<CheckpointCheck> {
    const key = readCheckpointKey(this.options.keyFile);
    const { mine, otherStores } = await gather(this.db, this.options.logFile);
    const result: CheckpointCheck = {
      file: this.options.logFile,
      keyId: key?.keyId ?? '',
      verified: 0,
      otherStores,
    };
    if (!key) {
      if (mine.length)
        report({
          position: 0,
          kind: 'checkpoint_invalid',
          message: `${mine.length} checkpoint(s) cannot be checked: the checkpoint key ${this.options.keyFile} is missing`,
        });
      return result;
    }
    const valid: AuditCheckpoint[] = [];
    for (const { c, fromFile } of mine) {
      if (checkpointSignedBy(c, key)) valid.push(c);
      else
        report({
          position: c.position,
          kind: 'checkpoint_invalid',
          message: `the checkpoint at position ${c.position} (${fromFile ? this.options.logFile : 'database copy'}) is not signed by the checkpoint key ${key.keyId}: forged`,
        });
    }
    result.verified = valid.length;
    result.last = valid.at(-1);
    const stored = await storedHashes(
      this.db,
      valid.map((c) => c.position),
    );
    const broken = valid.filter((c) => stored.get(c.position) !== c.hash);
    const first = broken[0];
    if (first) {
      const actual = stored.get(first.position);
      const later = broken.length - 1;
      report({
        position: first.position,
        kind: 'checkpoint_mismatch',
        message:
          `the checkpoint signed ${first.at} (position ${first.position}, hash ${first.hash.slice(0, 12)}…) ` +
          (actual === undefined
            ? `is beyond the end of the log (position ${v.head.position}): records were removed`
            : `does not match record ${first.position} (hash ${actual.slice(0, 12)}…): the history up to it was rewritten`) +
          (later ? `; ${later} later checkpoint(s) disagree too` : ''),
      });
    }
    return result;
  }
}

async function storedHashes(db: SqlQueryable, positions: number[]): Promise<Map<number, string>> {
  if (!positions.length) return new Map();
  const rows = await db.query<{ position: number; hash: string }>(
    'SELECT position, hash FROM audit_log WHERE position = ANY($1::bigint[])',
    [positions],
  );
  return new Map(rows.map((r) => [r.position, r.hash]));
}

const BATCH = 1000;

/** The records after `last` (a checkpoint, or the start) up to `head` recompute and link. */
async function verifySince(
  db: SqlQueryable,
  last: AuditCheckpoint | undefined,
  head: ChainHead,
): Promise<void> {
  const refuse = (why: string): never => {
    throw new RecordsError(
      'CHECKPOINT_FAILED',
      `not signing a checkpoint at position ${head.position}: ${why}`,
    );
  };
  let prev: ChainHead = last
    ? { position: last.position, hash: last.hash }
    : { position: 0, hash: GENESIS_HASH };
  if (last) {
    const stored = (await storedHashes(db, [last.position])).get(last.position);
    if (stored !== last.hash)
      refuse(`record ${last.position} no longer matches the checkpoint signed ${last.at}`);
  }
  while (prev.position < head.position) {
    const rows = await db.query<{
      position: number;
      kind: AuditKind;
      subject: string;
      seq: number | null;
      client: string | null;
      actor: string;
      at: Date;
      body: Record<string, Json>;
      prev_hash: string;
      hash: string;
    }>(
      `SELECT position, kind, subject, seq, client, actor, at, body, prev_hash, hash FROM audit_log
       WHERE position > $1 AND position <= $2 ORDER BY position LIMIT ${BATCH}`,
      [prev.position, head.position],
    );
    if (!rows.length) refuse(`records ${prev.position + 1}–${head.position} are missing`);
    for (const r of rows) {
      if (r.position !== prev.position + 1) refuse(`record ${prev.position + 1} is missing`);
      if (r.prev_hash !== prev.hash) refuse(`record ${r.position} does not link to record ${prev.position}`);
      const input = {
        kind: r.kind,
        subject: r.subject,
        seq: r.seq ?? undefined,
        client: r.client ?? undefined,
        actorId: r.actor,
        at: new Date(r.at).toISOString(),
        body: r.body,
      };
      if (auditHash(r.prev_hash, r.position, input) !== r.hash)
        refuse(`record ${r.position} does not match its hash`);
      prev = { position: r.position, hash: r.hash };
    }
  }
  if (prev.hash !== head.hash) refuse('the chain head does not match the last record');
}
