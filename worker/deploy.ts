/**
 * Deploying a new definition version at run time (the API's `POST /api/definitions`), and the
 * registry of current versions a process serves.
 *
 * A deployment is all-or-nothing: the draft must pass the one draft pipeline (`assessDraft`: it
 * validates, every invariant is proved on all paths, `start` actions across the whole set still line
 * up, also other procedures starting this one), and the version must be new and higher than the
 * current one. Only then is the
 * immutable version written to the records store (with its audit record) and made current.
 * Running instances keep the version they pinned: they carry their IR.
 *
 * Which version is current: the highest deployed version of each procedure — whether it came from
 * a file under `definitions/` (recorded at start) or from the API. So API deployments survive a
 * restart, and separate worker processes pick them up from the store (`refreshFromStore`).
 */
import { hashProcedure } from '../workflows/core/hash.ts';
import type { Diagnostic } from '../workflows/core/diagnostics.ts';
import type { InvariantResult } from '../workflows/core/verify/types.ts';
import { assessDraft, type LoadedDefinition } from './drafts.ts';
import type { AssessDraftAsync } from './draft-pool.ts';
import type { DefinitionVersion, RecordsStore } from './records/types.ts';
import { isRecordsError } from './records/errors.ts';
import { refreshCalendar } from './calendars.ts';

/** Semantic-version order (SemVer 2.0 precedence; build metadata ignored). */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string): { core: number[]; pre: string[] } => {
    const [main = '', pre] = v.split('+')[0]!.split(/-(.*)/s);
    return { core: main.split('.').map((n) => Number(n)), pre: pre ? pre.split('.') : [] };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.core[i] ?? 0) - (y.core[i] ?? 0);
    if (d) return Math.sign(d);
  }
  if (!x.pre.length || !y.pre.length) return Number(!x.pre.length) - Number(!y.pre.length);
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) return Math.sign(Number(p) - Number(q));
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return 0;
}

/** A stored version as a definition a process can run (its hash re-checked). */
export function definitionFromVersion(v: DefinitionVersion): LoadedDefinition {
  if (hashProcedure(v.ir) !== v.hash)
    throw new Error(`deployed ${v.procedure}@${v.version}: stored hash does not match its IR (altered?)`);
  return { file: `${v.procedure}@${v.version} (deployed)`, ir: v.ir, hash: v.hash };
}

/**
 * Make the highest deployed version of each procedure current in `definitions` (in place).
 * Returns the procedures whose current version changed.
 */
export async function refreshFromStore(
  store: RecordsStore,
  definitions: Map<string, LoadedDefinition>,
): Promise<string[]> {
  const best = new Map<string, DefinitionVersion>();
  for (const v of await store.definitionVersions()) {
    const b = best.get(v.procedure);
    if (!b || compareVersions(v.version, b.version) > 0) best.set(v.procedure, v);
  }
  // The business calendar new instances pin is refreshed with the definitions (`calendars.ts`).
  await refreshCalendar(store);
  const changed: string[] = [];
  for (const [id, v] of best) {
    const cur = definitions.get(id);
    if (cur && (cur.hash === v.hash || compareVersions(cur.ir.version, v.version) >= 0)) continue;
    definitions.set(id, definitionFromVersion(v));
    changed.push(id);
  }
  return changed;
}

export type DeployRefusalCode =
  'DEFINITION_INVALID' | 'ALREADY_DEPLOYED' | 'VERSION_EXISTS' | 'VERSION_NOT_NEWER';

export class DeployRefused extends Error {
  override name = 'DeployRefused';
  constructor(
    readonly code: DeployRefusalCode,
    message: string,
    readonly diagnostics: Diagnostic[] = [],
    /** The draft, when it was valid (e.g. the one already deployed). */
    readonly definition?: LoadedDefinition,
  ) {
    super(message);
  }
}

export interface DeployResult {
  definition: LoadedDefinition;
  version: DefinitionVersion;
  /** Warnings (errors refuse the deployment). */
  diagnostics: Diagnostic[];
}

/** A draft that passed the draft pipeline and the version checks: ready to be written. */
export interface PreparedDeployment {
  definition: LoadedDefinition;
  /** Warnings (errors refuse the deployment). */
  diagnostics: Diagnostic[];
  /** The all-paths proof of each invariant. */
  proof: InvariantResult[];
  /** The version current when it was prepared (undefined: a new procedure). */
  current?: LoadedDefinition;
}

/**
 * Assess `yaml` through the one draft pipeline and check its version against the store and the
 * current version. Throws `DeployRefused` when it may not go live; writes nothing. Both a proposal
 * (`POST /api/definitions`) and its approval (the `deploy_definition` effect) run it.
 */
export async function prepareDeployment(
  store: RecordsStore,
  definitions: ReadonlyMap<string, LoadedDefinition>,
  yaml: string,
  file = 'draft.yaml',
  /** How the draft is assessed: in this thread by default; the API passes its draft pool's. */
  assess: AssessDraftAsync = async (text, name, known) => assessDraft(text, name, known),
): Promise<PreparedDeployment> {
  const assessment = await assess(yaml, file, definitions);
  const { diagnostics, definition: def } = assessment;
  if (!assessment.valid || !def) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    throw new DeployRefused(
      'DEFINITION_INVALID',
      `the definition has ${errors.length} problem(s); nothing was deployed`,
      diagnostics,
    );
  }
  const { ir } = def;
  const existing = await store.definitionVersion(ir.id, ir.version);
  if (existing?.hash === def.hash)
    throw new DeployRefused(
      'ALREADY_DEPLOYED',
      `${ir.id}@${ir.version} is already deployed with this content`,
      [],
      def,
    );
  if (existing)
    throw new DeployRefused(
      'VERSION_EXISTS',
      `${ir.id}@${ir.version} is deployed with other content; versions are immutable — raise \`version:\``,
    );
  const current = definitions.get(ir.id);
  if (current && compareVersions(ir.version, current.ir.version) <= 0)
    throw new DeployRefused(
      'VERSION_NOT_NEWER',
      `${ir.id}@${ir.version} is not higher than the current version ${current.ir.version}; raise \`version:\``,
    );
  return { definition: def, diagnostics, proof: assessment.proof ?? [], ...(current ? { current } : {}) };
}

/**
 * Write a prepared version (with its audit record) and make it current in `definitions`.
 * Throws `DeployRefused('VERSION_EXISTS')` when another deployment of that version won the race.
 */
export async function commitDeployment(
  store: RecordsStore,
  definitions: Map<string, LoadedDefinition>,
  prepared: PreparedDeployment,
  yaml: string,
  by: string,
): Promise<DeployResult> {
  const { definition: def } = prepared;
  const { ir } = def;
  let version: DefinitionVersion;
  try {
    version = await store.deployDefinition({
      procedure: ir.id,
      version: ir.version,
      hash: def.hash,
      yaml,
      ir,
      deployedBy: by,
    });
  } catch (err) {
    // Another deployment of the same version won the race.
    if (isRecordsError(err, 'DEFINITION_CONFLICT')) throw new DeployRefused('VERSION_EXISTS', err.message);
    throw err;
  }
  // Another process may have deployed a higher version meanwhile: only move forward.
  const now = definitions.get(ir.id);
  if (!now || compareVersions(ir.version, now.ir.version) > 0) definitions.set(ir.id, def);
  return { definition: def, version, diagnostics: prepared.diagnostics };
}

/**
 * Validate, prove and deploy `yaml` as a new version by `by` at once (single-admin mode, tools);
 * on success it is current in `definitions`. Throws `DeployRefused` (nothing written) when it may
 * not go live.
 */
export async function deployDefinitionText(
  store: RecordsStore,
  definitions: Map<string, LoadedDefinition>,
  yaml: string,
  by: string,
  file = 'draft.yaml',
  assess?: AssessDraftAsync,
): Promise<DeployResult> {
  const prepared = await prepareDeployment(store, definitions, yaml, file, assess);
  return commitDeployment(store, definitions, prepared, yaml, by);
}
