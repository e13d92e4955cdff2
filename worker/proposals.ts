/**
 * Four-eyes deployment, the proposing side: `POST /api/definitions` turns a draft into an instance
 * of the engine's own `definition_change` procedure (`definitions/definition_change.yaml`) that a
 * second administrator approves or rejects. The draft is assessed first, off the serving thread,
 * by the one draft pipeline (`prepareDeployment`: load, check, prove, start links, version new and
 * higher): a draft that could not be deployed starts nothing. The instance pins the text, its
 * SHA-256, the author, the unified diff against the current version and the validation and proof
 * results; approving it deploys exactly that text (`activities/deploy-definition.ts`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { createTwoFilesPatch } from 'diff';
import type { Diagnostic } from '../workflows/core/diagnostics.ts';
import { canonicalJson } from '../workflows/core/hash.ts';
import type { Actor, Json, ProcedureIR } from '../workflows/core/ir.ts';
import { sha256Hex } from './activities/deploy-definition.ts';
import { actorSigner } from './actor-keys.ts';
import { loadDefinitions, type LoadedDefinition } from './definitions.ts';
import type { AssessDraftAsync } from './draft-pool.ts';
import { prepareDeployment, type PreparedDeployment } from './deploy.ts';
import { sendEvent, signedEvent, startProcedure } from './instances.ts';
import type { RecordsStore } from './records/types.ts';
import { REPO_ROOT } from './settings.ts';

/** The engine's own procedure of a definition change. */
export const DEFINITION_CHANGE = 'definition_change';

/** Why `definition_change` is not started like other procedures (its context must be computed). */
export const PROPOSED_THROUGH_DEPLOY =
  'a definition change is proposed through POST /api/definitions (the editor’s Deploy), which assesses the draft and computes its diff';

/**
 * Largest definition text a proposal carries (UTF-8 bytes). The text, its diff and the results
 * travel in the instance's history and snapshot (Temporal payloads ≤ 2 MB): 100 kB leaves room.
 */
export const MAX_PROPOSAL_BYTES = 100_000;

/** Largest diff kept in a proposal (characters); a longer one is cut with a note. */
export const MAX_DIFF_CHARS = 300_000;

/** The draft is larger than a proposal may carry (HTTP 413). */
export class ProposalTooLarge extends Error {
  override name = 'ProposalTooLarge';
}

const SHIPPED_FILE = path.join(REPO_ROOT, 'definitions', `${DEFINITION_CHANGE}.yaml`);

/**
 * The `definition_change` definition this process runs: the current one in `definitions`, else the
 * shipped file — loaded, recorded as deployed and made current (a process started with other
 * definition folders still governs its deployments).
 */
export async function definitionChange(
  store: RecordsStore,
  definitions: Map<string, LoadedDefinition>,
): Promise<LoadedDefinition> {
  const known = definitions.get(DEFINITION_CHANGE);
  if (known) return known;
  const set = loadDefinitions([SHIPPED_FILE], REPO_ROOT);
  const def = set.definitions.get(DEFINITION_CHANGE);
  if (!def) throw new Error(`the shipped ${DEFINITION_CHANGE} definition does not load`);
  await store.deployDefinition({
    procedure: def.ir.id,
    version: def.ir.version,
    hash: def.hash,
    yaml: readFileSync(SHIPPED_FILE, 'utf8'),
    ir: def.ir,
    deployedBy: 'custodia',
  });
  definitions.set(DEFINITION_CHANGE, def);
  return def;
}

/** The unified diff of the current text against the proposed one ('' when there is no current). */
export function unifiedDiff(
  id: string,
  before: { version: string; yaml: string } | undefined,
  after: { version: string; yaml: string },
): string {
  const patch = createTwoFilesPatch(
    `${id}@${before?.version ?? '(none)'}`,
    `${id}@${after.version}`,
    before?.yaml ?? '',
    after.yaml,
    undefined,
    undefined,
    // Bounded: a diff that takes longer is not worth blocking the API for.
    { context: 3, timeout: 500 },
  );
  if (patch === undefined) return '(the diff took too long to compute; compare the texts)';
  return patch.length > MAX_DIFF_CHARS
    ? `${patch.slice(0, MAX_DIFF_CHARS)}\n… (diff cut at ${MAX_DIFF_CHARS} characters)`
    : patch;
}

/**
 * The separation-of-duties rules and invariants of `current` that `next` drops or changes (issue
 * #10: weakening them needs a second administrator, even in single-admin mode). Each as
 * `duty APPROVE ≠ SUBMIT` / `invariant <id>`.
 */
export function weakenedSafeguards(current: ProcedureIR | undefined, next: ProcedureIR): string[] {
  if (!current) return [];
  const key = (x: unknown): string => canonicalJson(x as Json);
  const duties = new Set(next.duties.map((d) => key({ event: d.event, from: [...d.distinctFrom].sort() })));
  const invariants = new Map(next.invariants.map((i) => [i.id, key({ ...i, description: null })]));
  const out: string[] = [];
  for (const d of current.duties)
    if (!duties.has(key({ event: d.event, from: [...d.distinctFrom].sort() })))
      out.push(`duty ${d.event} ≠ ${d.distinctFrom.join(', ')}`);
  for (const i of current.invariants)
    if (invariants.get(i.id) !== key({ ...i, description: null })) out.push(`invariant ${i.id}`);
  return out;
}

/** A diagnostic as a proposal keeps it (small, plain JSON). */
const brief = (d: Diagnostic): Record<string, Json> => ({
  code: d.code,
  severity: d.severity,
  message: d.message,
  line: d.line,
  column: d.column,
});

/** The validation and proof results a reviewer reads. */
export function validationSummary(prepared: PreparedDeployment, weakened: string[]): Record<string, Json> {
  const descriptions = new Map(prepared.definition.ir.invariants.map((i) => [i.id, i.description]));
  return {
    valid: true,
    warnings: prepared.diagnostics.slice(0, 50).map(brief),
    invariants: prepared.proof.map((r) => ({
      id: r.id,
      kind: r.kind,
      holds: r.holds,
      explored: r.explored,
      ...(descriptions.get(r.id) ? { description: { ...descriptions.get(r.id)! } } : {}),
    })),
    duties: prepared.definition.ir.duties.length,
    weakened,
  };
}

export interface ProposalDeps {
  client: Client;
  store: RecordsStore;
  definitions: Map<string, LoadedDefinition>;
  taskQueue: string;
  assess: AssessDraftAsync;
}

export interface Proposal {
  workflowId: string;
  procedure: string;
  version: string;
  sha256: string;
  /** Safeguards of the current version the change drops or alters. */
  weakened: string[];
}

/** Throws `ProposalTooLarge` when `yaml` is over `MAX_PROPOSAL_BYTES`. */
export function checkProposalSize(yaml: string): void {
  const bytes = Buffer.byteLength(yaml, 'utf8');
  if (bytes > MAX_PROPOSAL_BYTES)
    throw new ProposalTooLarge(
      `the definition is ${bytes} bytes; a proposal carries at most ${MAX_PROPOSAL_BYTES} bytes`,
    );
}

/**
 * Assess the draft (nothing started when it could not be deployed: `DeployRefused`, or the draft
 * pool's `DraftTooCostly`/`DraftPoolBusy`) and what it would change.
 */
export async function prepareProposal(
  deps: ProposalDeps,
  yaml: string,
  file: string,
): Promise<{ prepared: PreparedDeployment; weakened: string[] }> {
  checkProposalSize(yaml);
  const prepared = await prepareDeployment(deps.store, deps.definitions, yaml, file, deps.assess);
  return { prepared, weakened: weakenedSafeguards(prepared.current?.ir, prepared.definition.ir) };
}

/**
 * Start the `definition_change` instance of a prepared draft and send its `PROPOSE` as the author
 * (the separation-of-duties rule of APPROVE refers to it). Returns the proposal.
 */
export async function startProposal(
  deps: ProposalDeps,
  yaml: string,
  { prepared, weakened }: { prepared: PreparedDeployment; weakened: string[] },
  author: Actor,
  note?: string,
): Promise<Proposal> {
  const change = await definitionChange(deps.store, deps.definitions);
  const { ir, hash } = prepared.definition;
  const current = prepared.current;
  const base = current ? await deps.store.definitionVersion(ir.id, current.ir.version) : undefined;
  const sha256 = sha256Hex(yaml);
  const context: Record<string, Json> = {
    procedure: ir.id,
    version: ir.version,
    yaml,
    sha256,
    hash,
    diff: unifiedDiff(ir.id, current && { version: current.ir.version, yaml: base?.yaml ?? '' }, {
      version: ir.version,
      yaml,
    }),
    validation: validationSummary(prepared, weakened),
  };
  if (current) context.base_version = current.ir.version;
  const workflowId = await startProcedure(deps.client, change, {
    context,
    starter: author,
    taskQueue: deps.taskQueue,
  });
  try {
    await sendEvent(
      deps.client,
      workflowId,
      signedEvent(actorSigner(), workflowId, {
        type: 'PROPOSE',
        data: note ? { note } : {},
        actor: author,
      }),
    );
  } catch (err) {
    // A proposal nobody proposed must not linger in the inbox.
    await deps.client.workflow
      .getHandle(workflowId)
      .terminate('the proposal could not be submitted')
      .catch(() => undefined);
    throw err;
  }
  return { workflowId, procedure: ir.id, version: ir.version, sha256, weakened };
}
