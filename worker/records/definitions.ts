/**
 * Deployed definition versions: immutable `procedure@version` rows (a trigger refuses UPDATE and
 * DELETE), each with its content hash, YAML, IR, who deployed it and when, and the position of
 * its `deployment` record in the audit chain.
 */
import { createHash } from 'node:crypto';
import { hashProcedure } from '../../workflows/core/hash.ts';
import type { ProcedureIR } from '../../workflows/core/ir.ts';
import { cachedValidate } from '../validation-cache.ts';
import { appendAudit, lockChainHead } from './audit.ts';
import { RecordsError } from './errors.ts';
import type { SqlClient, SqlQueryable } from './sql.ts';
import type { DefinitionVersion } from './types.ts';
import { BoundedMap } from '../bounded-map.ts';

interface DefinitionRow {
  procedure: string;
  version: string;
  hash: string;
  yaml: string;
  ir: ProcedureIR;
  deployed_by: string;
  deployed_at: Date;
}

const COLUMNS = 'procedure, version, hash, yaml, ir, deployed_by, deployed_at';

const inDocumentOrder = new BoundedMap<string, ProcedureIR>(256);

/**
 * The stored IR in document order. jsonb (PostgreSQL's and PGlite's) re-sorts object keys, and
 * key order carries meaning (states, regions, context fields, form order), so the IR is compiled
 * again from the stored YAML — the source of truth — when that gives the stored hash; otherwise
 * (no YAML) the stored IR. Cached per hash (a version never changes), the 256 most recently used;
 * and the compilation is remembered on disk across processes (`validation-cache.ts`: ~1 CPU-s of
 * every start for the shipped ten, whose versions each start looks up).
 */
function orderedIr(r: DefinitionRow): ProcedureIR {
  let ir = inDocumentOrder.get(r.hash);
  if (!ir) {
    const compiled = r.yaml ? cachedValidate(r.yaml, `${r.procedure}@${r.version}`).ir : undefined;
    ir = compiled && hashProcedure(compiled) === r.hash ? compiled : r.ir;
    inDocumentOrder.set(r.hash, ir);
  }
  return ir;
}

function fromRow(r: DefinitionRow): DefinitionVersion {
  return {
    procedure: r.procedure,
    version: r.version,
    hash: r.hash,
    yaml: r.yaml,
    ir: orderedIr(r),
    deployedBy: r.deployed_by,
    deployedAt: new Date(r.deployed_at).toISOString(),
  };
}

export async function definitionVersion(
  db: SqlQueryable,
  procedure: string,
  version: string,
): Promise<DefinitionVersion | undefined> {
  const [row] = await db.query<DefinitionRow>(
    `SELECT ${COLUMNS} FROM definition_versions WHERE procedure = $1 AND version = $2`,
    [procedure, version],
  );
  return row && fromRow(row);
}

/** Every version (of one procedure), oldest deployment first. */
export async function definitionVersions(db: SqlQueryable, procedure?: string): Promise<DefinitionVersion[]> {
  const rows =
    procedure === undefined
      ? await db.query<DefinitionRow>(`SELECT ${COLUMNS} FROM definition_versions ORDER BY audit_position`)
      : await db.query<DefinitionRow>(
          `SELECT ${COLUMNS} FROM definition_versions WHERE procedure = $1 ORDER BY audit_position`,
          [procedure],
        );
  return rows.map(fromRow);
}

export async function deployDefinition(
  sql: SqlClient,
  d: Omit<DefinitionVersion, 'deployedAt'>,
): Promise<DefinitionVersion> {
  if (d.ir.id !== d.procedure || d.ir.version !== d.version)
    throw new RecordsError(
      'INVALID_INPUT',
      `the IR is ${d.ir.id}@${d.ir.version}, not ${d.procedure}@${d.version}`,
    );
  const actual = hashProcedure(d.ir);
  if (actual !== d.hash)
    throw new RecordsError(
      'DEFINITION_HASH_MISMATCH',
      `${d.procedure}@${d.version}: hash ${d.hash} is not the IR's hash (${actual})`,
    );
  return sql.transaction(async (tx) => {
    // The chain head serialises deployments too: of two racing deploys, the second sees the first.
    const head = await lockChainHead(tx);
    const existing = await definitionVersion(tx, d.procedure, d.version);
    if (existing) {
      if (existing.hash === d.hash) return existing;
      throw new RecordsError(
        'DEFINITION_CONFLICT',
        `${d.procedure}@${d.version} is already deployed with different content ` +
          `(hash ${existing.hash.slice(0, 12)}…, by ${existing.deployedBy} at ${existing.deployedAt}; ` +
          `this one is ${d.hash.slice(0, 12)}…). Versions are immutable: give the change a new version.`,
      );
    }
    const deployedAt = new Date().toISOString();
    const entry = await appendAudit(tx, head, {
      kind: 'deployment',
      subject: `${d.procedure}@${d.version}`,
      actorId: d.deployedBy,
      at: deployedAt,
      body: {
        procedure: d.procedure,
        version: d.version,
        hash: d.hash,
        yamlSha256: createHash('sha256').update(d.yaml, 'utf8').digest('hex'),
      },
    });
    await tx.query(
      `INSERT INTO definition_versions (procedure, version, hash, yaml, ir, deployed_by, deployed_at, audit_position)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)`,
      [d.procedure, d.version, d.hash, d.yaml, JSON.stringify(d.ir), d.deployedBy, entry.at, entry.position],
    );
    return { ...d, deployedAt: entry.at };
  });
}
