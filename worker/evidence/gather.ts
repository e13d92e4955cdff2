/**
 * Gathering a pack's material from the records store: the audit segment (`segment.ts`), the signed
 * checkpoint at its end (an existing one at or after the client's last record of the period, else
 * one signed now), the definition versions in force or run, the procedure's clauses, the coverage
 * notes and the tests' clause tags. Everything returned is plain JSON (`EvidenceData`).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { findTestFiles, parseCoverageNotes, scanTestTags } from '../cli/coverage.ts';
import type { Text } from '../../workflows/core/ir.ts';
import { compareVersions } from '../deploy.ts';
import { loadDefinitions, loadProcedureClauses, type LoadedDefinition } from '../definitions.ts';
import type { AuditCheckpoint, AuditEntry, DefinitionVersion, RecordsStore } from '../records/types.ts';
import { definitionDirs, REPO_ROOT } from '../settings.ts';
import { isOpenRecord, sealUnless } from './segment.ts';
import {
  EvidenceError,
  type EvidenceData,
  type EvidenceRequest,
  type PackCheckpoint,
  type PackDefinition,
  type SegmentRecord,
} from './types.ts';

export interface GatherOptions {
  /** Most records a segment may span (the API bounds it; the CLI does not). */
  maxRecords?: number;
  /** Definition folders (default the configured ones): clauses, notes and files not in the store. */
  definitionDirs?: readonly string[];
  /** The definitions the process already loaded (spares reading the files again). */
  loaded?: Iterable<LoadedDefinition>;
  /** Where test files are looked for (clause tags); default the repository, when it has tests. */
  testsRoot?: string;
  now?: Date;
}

const PAGE = 5000;

/**
 * A period bound as given (`2026-03-01` or an ISO-8601 time) → ISO-8601 UTC. A bare date is the
 * start of that day (UTC); for `to`, the start of the next day, so `--to 2026-03-31` includes it.
 */
export function periodBound(text: string, end: boolean): string {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const d = new Date(day ? `${text}T00:00:00.000Z` : text);
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(text))
    throw new EvidenceError('BAD_PERIOD', `"${text}" is not a date (YYYY-MM-DD) or an ISO-8601 time`);
  if (day && end) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString();
}

export async function gatherEvidence(
  store: RecordsStore,
  request: EvidenceRequest,
  opts: GatherOptions = {},
): Promise<EvidenceData> {
  const now = opts.now ?? new Date();
  const from = request.from;
  const to = request.to ?? now.toISOString();
  if (from !== undefined && from >= to)
    throw new EvidenceError('BAD_PERIOD', `the period is empty: from ${from} is not before to ${to}`);
  const own = (await store.auditOfClient(request.client)).filter(
    (e) => (from === undefined || e.at >= from) && e.at < to,
  );
  const checkpoint = await checkpointAfter(store, own.at(-1)?.position ?? 0);
  const segment = own.length
    ? await readSegment(
        store,
        own[0]!.position,
        checkpoint.checkpoint.position,
        (e) => isOpenRecord(e, request.client, from, to),
        opts.maxRecords,
      )
    : [];
  checkpoint.within = checkpoint.within.filter(
    (c) =>
      segment.length > 0 && c.position >= segment[0]!.position && c.position < checkpoint.checkpoint.position,
  );
  const dirs = opts.definitionDirs ?? definitionDirs();
  return {
    request,
    generatedAt: now.toISOString(),
    period: { ...(from !== undefined ? { from } : {}), to },
    segment,
    checkpoint,
    definitions: await packDefinitions(store, own, to, dirs, opts.loaded),
    clauses: loadProcedureClauses([...dirs]),
    coverageNotes: coverageNotes(dirs),
    tests: testRefs(opts.testsRoot ?? REPO_ROOT),
  };
}

/**
 * The earliest signed checkpoint at or after `position` (the client's last record of the period),
 * else one signed now; with no record of the client (`position` 0), the latest one.
 */
async function checkpointAfter(store: RecordsStore, position: number): Promise<PackCheckpoint> {
  const signed = await store.checkpoints();
  let c: AuditCheckpoint | undefined = position
    ? signed.checkpoints.find((x) => x.position >= position)
    : signed.checkpoints.at(-1);
  if (!c) c = await store.checkpoint();
  const key = await store.checkpoints();
  if (!c || !key.publicKey || !key.keyId)
    throw new EvidenceError(
      'NO_CHECKPOINT_KEY',
      c || key.publicKey
        ? 'the audit log is empty: there is no checkpoint to sign yet'
        : 'the records store has no checkpoint key (an in-memory store?): an evidence pack needs a signed checkpoint',
    );
  return {
    storeId: c.storeId,
    publicKey: key.publicKey,
    keyId: key.keyId,
    checkpoint: c,
    within: key.checkpoints.filter((x) => x.position < c.position),
  };
}

/** Positions `first … last` of the chain, each whole or sealed. */
async function readSegment(
  store: RecordsStore,
  first: number,
  last: number,
  open: (e: AuditEntry) => boolean,
  maxRecords: number | undefined,
): Promise<SegmentRecord[]> {
  const span = last - first + 1;
  if (maxRecords !== undefined && span > maxRecords)
    throw new EvidenceError(
      'TOO_LARGE',
      `the period spans ${span} audit records (at most ${maxRecords} here): choose a shorter period, or use \`custodia evidence\``,
    );
  const out: SegmentRecord[] = [];
  let after = first - 1;
  while (after < last) {
    const page = await store.audit({ afterPosition: after, limit: Math.min(PAGE, last - after) });
    if (!page.length) break;
    for (const e of page) out.push(sealUnless(open(e), e));
    after = page.at(-1)!.position;
  }
  return out;
}

/**
 * The versions in force at the end of the period (the latest deployed by then, per procedure) and
 * every version the client's instances ran in it — from the store, else from the definition files
 * with the same hash.
 */
async function packDefinitions(
  store: RecordsStore,
  own: readonly AuditEntry[],
  to: string,
  dirs: readonly string[],
  loaded: Iterable<LoadedDefinition> | undefined,
): Promise<PackDefinition[]> {
  const deployed = await store.definitionVersions();
  const inForce = new Map<string, DefinitionVersion>();
  for (const v of deployed) {
    if (v.deployedAt >= to) continue;
    const cur = inForce.get(v.procedure);
    if (!cur || compareVersions(v.version, cur.version) > 0) inForce.set(v.procedure, v);
  }
  const ran = new Map<string, Set<string>>();
  for (const e of own) {
    const hash = e.body.definitionHash;
    if (e.kind !== 'transition' || typeof hash !== 'string') continue;
    ran.set(hash, (ran.get(hash) ?? new Set()).add(e.subject));
  }
  const byHash = new Map<string, PackDefinition>();
  const add = (
    v: Pick<DefinitionVersion, 'hash' | 'ir'> & Partial<DefinitionVersion>,
    force: boolean,
  ): void => {
    const known = byHash.get(v.hash);
    if (known) {
      known.inForce ||= force;
      return;
    }
    byHash.set(v.hash, {
      procedure: v.ir.id,
      version: v.ir.version,
      title: v.ir.title,
      hash: v.hash,
      ...(v.deployedAt ? { deployedAt: v.deployedAt } : {}),
      ...(v.deployedBy ? { deployedBy: v.deployedBy } : {}),
      inForce: force,
      instances: ran.get(v.hash)?.size ?? 0,
      ir: v.ir,
    });
  };
  for (const v of inForce.values()) add(v, true);
  for (const v of deployed) if (ran.has(v.hash)) add(v, false);
  const missing = [...ran.keys()].filter((h) => !byHash.has(h));
  if (missing.length) {
    const files = loaded
      ? [...loaded]
      : [...loadDefinitions([...dirs], REPO_ROOT, { verify: false }).definitions.values()];
    for (const d of files) if (missing.includes(d.hash)) add({ hash: d.hash, ir: d.ir }, false);
  }
  return [...byHash.values()].sort(
    (a, b) => a.procedure.localeCompare(b.procedure) || compareVersions(a.version, b.version),
  );
}

function coverageNotes(dirs: readonly string[]): Record<string, Text> {
  for (const dir of dirs) {
    const file = path.join(dir, 'procedure', 'coverage-notes.yaml');
    if (existsSync(file)) return parseCoverageNotes(readFileSync(file, 'utf8')).notes;
  }
  return {};
}

function testRefs(root: string): EvidenceData['tests'] {
  return findTestFiles(root).flatMap((f) => scanTestTags(readFileSync(f, 'utf8'), path.relative(root, f)));
}
