/**
 * The one draft pipeline: whether a definition text may run. Every door a definition comes in by —
 * the API's validate and deploy routes, the worker loading its definition files, `custodia validate`
 * and `custodia start` — calls `assessDraft` / `assessDrafts`, so a draft reported valid is one
 * that deploy accepts and a worker runs.
 *
 * The steps, each reporting every problem it finds (never stopping at the first):
 * 1. **load + check** (`workflows/core`'s `validateProcedureText`): YAML, schema, semantic rules;
 * 2. **prove**: every invariant on all paths (`verifyProcedure`), a violation with its path;
 * 3. **start targets**: `start` actions (and `call:` states, `call-targets.ts`) across the set — the drafts with the known definitions
 *    (the ones running, files and deployed versions) — name a procedure there with fitting input,
 *    in both directions (this draft's targets, and others' starts into it); `lookup` actions
 *    across the set — the register declared alike and written by some definition
 *    (`register-agreement.ts`).
 *
 * `assessDraft` reports at most `MAX_DIAGNOSTICS` (then one `PROC_MORE_DIAGNOSTICS`).
 *
 * Pure: text in, diagnostics and proof results out (no files, no store); the callers read those.
 * It can cost seconds on a hostile draft: the API runs it on its draft threads (`draft-pool.ts`,
 * with a time and memory budget), never on the serving thread.
 */
import { parseDocument } from 'yaml';
import { hashProcedure } from '../workflows/core/hash.ts';
import type { Diagnostic } from '../workflows/core/diagnostics.ts';
import type { ProcedureIR } from '../workflows/core/ir.ts';
import type { PositionIndex } from '../workflows/core/positions.ts';
import { validateProcedureText, type ValidationResult } from '../workflows/core/validate.ts';
import {
  eventlessLoopDiagnostics,
  verifyProcedure,
  type InvariantResult,
  type VerifyResult,
} from '../workflows/core/verify.ts';
import { allTransitions } from '../workflows/core/ir-walk.ts';
import { startInputMismatches } from '../workflows/core/start-input.ts';
import { callTargetDiagnostics } from './call-targets.ts';
import { checkLookupRegisters } from './register-agreement.ts';
import { inputFields, nonInputFields } from '../workflows/core/start-fields.ts';
import { notInputHint } from '../workflows/core/check-start-fields.ts';

/** A definition a process can run: its checked IR, the hash instances pin, where it came from. */
export interface LoadedDefinition {
  file: string;
  ir: ProcedureIR;
  hash: string;
  /** Source positions, for diagnostics that span definitions. */
  positions?: PositionIndex;
}

/** A definition text and the name its diagnostics carry. */
export interface Draft {
  yaml: string;
  file: string;
}

export interface AssessOptions {
  /**
   * Which drafts to prove (default all). `custodia start` proves only the procedure it starts;
   * `custodia verify` and `coverage` prove nothing here (they report proofs their own way).
   */
  prove?: boolean | ((procedureId: string) => boolean);
  /** Told as each step starts (the API's draft threads report it, so a budget names the step it cut). */
  onStep?: (step: DraftStep) => void;
  /** How to prove (default `verifyProcedure`; the CLI and the worker remember proofs: `proof-cache.ts`). */
  verify?: (ir: ProcedureIR) => VerifyResult;
  /** How to load and check (default `validateProcedureText`; files are remembered: `validation-cache.ts`). */
  validate?: (yaml: string, file: string) => ValidationResult;
}

/** The pipeline's steps. */
export type DraftStep = 'load' | 'prove' | 'links';

/** What the pipeline says about one draft. */
export interface DraftAssessment {
  /** No error in any step (warnings allowed): deploy would accept it, a worker would run it. */
  valid: boolean;
  file: string;
  /** The draft as a runnable definition, when it loaded and checked (even if a later step failed). */
  definition?: LoadedDefinition;
  /** The draft's own diagnostics, in pipeline order (load/check, proof, start targets). */
  diagnostics: Diagnostic[];
  /** The all-paths proof of each invariant, when the draft was proved. */
  proof?: InvariantResult[];
}

export interface DraftSetAssessment {
  drafts: DraftAssessment[];
  /** The valid drafts by procedure id. */
  definitions: Map<string, LoadedDefinition>;
  /**
   * Every diagnostic in pipeline order, including start-target problems of known definitions the
   * drafts break (a new version that drops an input field another procedure starts it with).
   */
  diagnostics: Diagnostic[];
}

/**
 * Assess one draft against the definitions the product knows (`known`: the current version of
 * each procedure, from files and the store). The draft replaces `known`'s version of its id for
 * the start-target check. `diagnostics` include problems it causes in known definitions.
 */
export function assessDraft(
  yaml: string,
  file: string,
  known: ReadonlyMap<string, LoadedDefinition> = new Map(),
  opts: AssessOptions = {},
): DraftAssessment {
  const set = assessDrafts([{ yaml, file }], known, opts);
  const one = set.drafts[0]!;
  const valid = one.valid && !hasError(set.diagnostics);
  return { ...one, diagnostics: capDiagnostics(set.diagnostics), valid };
}

/** Aliases a draft from outside (the API) may expand (the loader's own `maxAliasCount`). */
export const ALIAS_BUDGET = 100;

/**
 * A `YAML_ALIAS_BUDGET` diagnostic when the draft's YAML aliases expand beyond the budget (an
 * alias bomb, quadratic to expand), else undefined. Only drafts that use aliases (`*`) are parsed
 * an extra time. The API's draft threads run it before `assessDraft`.
 */
export function aliasBudgetDiagnostic(yaml: string, file: string): Diagnostic | undefined {
  if (!yaml.includes('*')) return undefined;
  try {
    parseDocument(yaml, { uniqueKeys: false }).toJS({ maxAliasCount: ALIAS_BUDGET });
  } catch (err) {
    if (!(err instanceof ReferenceError)) return undefined; // the loader reports other problems itself
    return {
      code: 'YAML_ALIAS_BUDGET',
      severity: 'error',
      message: `YAML aliases expand beyond ${ALIAS_BUDGET} nodes; write the values out instead`,
      file,
      line: 1,
      column: 1,
      pointer: '',
    };
  }
  return undefined;
}

/** Diagnostics one answer reports at most; the rest are counted in a final one. */
export const MAX_DIAGNOSTICS = 200;

/** The first `max` diagnostics (errors first) and, when there are more, one saying how many. */
export function capDiagnostics(diagnostics: readonly Diagnostic[], max = MAX_DIAGNOSTICS): Diagnostic[] {
  if (diagnostics.length <= max) return [...diagnostics];
  const errorsFirst = [
    ...diagnostics.filter((d) => d.severity === 'error'),
    ...diagnostics.filter((d) => d.severity !== 'error'),
  ];
  const kept = errorsFirst.slice(0, max);
  const rest = diagnostics.length - max;
  const last = kept[kept.length - 1]!;
  return [
    ...kept,
    {
      code: 'PROC_MORE_DIAGNOSTICS',
      severity: rest > 0 && errorsFirst.slice(max).some((d) => d.severity === 'error') ? 'error' : 'warning',
      message: `${rest} more diagnostic(s) not shown; fix these first`,
      file: last.file,
      line: 1,
      column: 1,
      pointer: '',
    },
  ];
}

/** What the API's validate route answers: validity, the draft's id, version and hash when it loaded, every diagnostic. */
export interface DraftReport {
  valid: boolean;
  id?: string;
  version?: string;
  hash?: string;
  diagnostics: Diagnostic[];
}

/** An assessment as the API reports it (`POST /api/definitions/validate`). */
export function draftReport(a: DraftAssessment): DraftReport {
  const def = a.definition;
  return {
    valid: a.valid,
    ...(def ? { id: def.ir.id, version: def.ir.version, hash: def.hash } : {}),
    diagnostics: a.diagnostics,
  };
}

/** Assess several drafts together (a definitions folder): each as `assessDraft`, plus duplicate ids. */
export function assessDrafts(
  drafts: readonly Draft[],
  known: ReadonlyMap<string, LoadedDefinition> = new Map(),
  opts: AssessOptions = {},
): DraftSetAssessment {
  const diagnostics: Diagnostic[] = [];
  const byId = new Map<string, DraftAssessment>();
  opts.onStep?.('load');
  const out = drafts.map((draft) => {
    const assessment = loadDraft(draft, byId, opts.validate);
    diagnostics.push(...assessment.diagnostics);
    return assessment;
  });
  opts.onStep?.('prove');
  for (const a of byId.values())
    if (shouldProve(opts, a.definition!.ir.id)) diagnostics.push(...prove(a, opts.verify));

  const set = new Map(known);
  for (const [id, a] of byId) set.set(id, a.definition!);
  opts.onStep?.('links');
  const links = checkStartTargets(set);
  diagnostics.push(...links.diagnostics);
  for (const [id, a] of byId) a.diagnostics.push(...(links.byProcedure.get(id) ?? []));
  const lookups = checkLookupRegisters(set);
  for (const [id, a] of byId) {
    a.diagnostics.push(...(lookups.get(id) ?? []));
    diagnostics.push(...(lookups.get(id) ?? []));
  }
  const definitions = new Map<string, LoadedDefinition>();
  for (const a of out) {
    a.valid = a.definition !== undefined && !hasError(a.diagnostics);
    if (a.valid) definitions.set(a.definition!.ir.id, a.definition!);
  }
  return { drafts: out, definitions, diagnostics };
}

function hasError(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

function shouldProve(opts: AssessOptions, id: string): boolean {
  return typeof opts.prove === 'function' ? opts.prove(id) : opts.prove !== false;
}

/** Step 1: load and check; a second draft with an id already seen is refused. */
function loadDraft(
  draft: Draft,
  byId: Map<string, DraftAssessment>,
  validate: (yaml: string, file: string) => ValidationResult = validateProcedureText,
): DraftAssessment {
  const result = validate(draft.yaml, draft.file);
  const assessment: DraftAssessment = {
    valid: false,
    file: draft.file,
    diagnostics: [...result.diagnostics],
  };
  if (!result.ir) return assessment;
  const previous = byId.get(result.ir.id);
  if (previous) {
    assessment.diagnostics.push({
      code: 'PROC_DUPLICATE_ID',
      severity: 'error',
      message: `procedure id "${result.ir.id}" is also defined in ${previous.file}`,
      file: draft.file,
      line: 1,
      column: 1,
      pointer: '/id',
    });
    return assessment;
  }
  assessment.definition = {
    file: draft.file,
    ir: result.ir,
    hash: hashProcedure(result.ir),
    ...(result.positions ? { positions: result.positions } : {}),
  };
  byId.set(result.ir.id, assessment);
  return assessment;
}

/** Step 2: the all-paths proof (bounded by verify's configuration cap); returns its diagnostics. */
function prove(
  a: DraftAssessment,
  verify: (ir: ProcedureIR) => VerifyResult = verifyProcedure,
): Diagnostic[] {
  const result = verify(a.definition!.ir);
  a.proof = result.invariants;
  const found = invariantDiagnostics(a.definition!, result);
  a.diagnostics.push(...found);
  return found;
}

/** Invariants of one definition that are not proved on all paths, as diagnostics. */
export function invariantDiagnostics(
  def: LoadedDefinition,
  result: VerifyResult = verifyProcedure(def.ir),
): Diagnostic[] {
  const loops = eventlessLoopDiagnostics(result, def.file, def.positions);
  const invariants: Diagnostic[] = result.invariants
    .filter((r) => !r.holds)
    .map((r) => {
      const index = def.ir.invariants.findIndex((inv) => inv.id === r.id);
      const pointer = `/invariants/${index}`;
      const at = def.positions?.value(pointer) ?? { line: 1, column: 1 };
      const path = r.counterexample
        ? `; counterexample: ${r.counterexample.map((step) => `${step.event} → ${step.to.join('+')}`).join(', ')}`
        : '';
      const capped =
        !r.counterexample && !result.exhaustive ? ` (proof exceeded ${result.explored} configurations)` : '';
      return {
        code: 'PROC_INVARIANT_VIOLATED' as const,
        severity: 'error' as const,
        message: `invariant ${r.id} (${r.kind}) ${r.counterexample ? 'violated' : 'not proved'}${path}${capped}`,
        file: def.file,
        line: at.line,
        column: at.column,
        pointer,
        hint: r.note ?? 'run `custodia verify` for the full path',
      };
    });
  return [...invariants, ...loops];
}

/**
 * Step 3, across definitions: every `start` action names a procedure in the set, its input
 * fields are context fields of that procedure, and each input value provably fits that field's
 * schema where its form allows a proof (`start-input.ts`): otherwise the parent's event would be
 * accepted and the linked start then fail. (A definition alone cannot know the others.)
 */
export function checkStartTargets(definitions: ReadonlyMap<string, LoadedDefinition>): {
  diagnostics: Diagnostic[];
  /** Procedures with a broken `start` action. */
  broken: Set<string>;
  /** The diagnostics by the procedure whose `start` action they concern. */
  byProcedure: Map<string, Diagnostic[]>;
} {
  const out: Diagnostic[] = [];
  const broken = new Set<string>();
  const byProcedure = new Map<string, Diagnostic[]>();
  const seen = new Set<string>(); // a transition shared by YAML aliases is reported once
  for (const def of definitions.values()) {
    for (const { transition: t } of allTransitions(def.ir.root))
      t.actions.forEach((a, i) => {
        if (a.kind !== 'start') return;
        const pointer = `${t.pointer}/actions/${i}`;
        const target = definitions.get(a.procedure);
        const problem = (
          message: string,
          hint?: string,
          code: Diagnostic['code'] = 'PROC_UNKNOWN_PROCEDURE',
          at = pointer,
        ): void => {
          const d: Diagnostic = {
            code,
            severity: 'error',
            message,
            file: def.file,
            line: def.positions?.value(at).line ?? 1,
            column: def.positions?.value(at).column ?? 1,
            pointer: at,
            ...(hint ? { hint } : {}),
          };
          const key = `${d.file}:${d.line}:${d.column}:${d.code}:${d.message}`;
          if (seen.has(key)) return;
          seen.add(key);
          out.push(d);
          broken.add(def.ir.id);
          byProcedure.set(def.ir.id, [...(byProcedure.get(def.ir.id) ?? []), d]);
        };
        if (!target) {
          problem(
            `starts procedure "${a.procedure}", which is not among the definitions loaded`,
            `known: ${[...definitions.keys()].join(', ')}`,
          );
          return;
        }
        for (const field of Object.keys(a.input ?? {}))
          if (!target.ir.context[field])
            problem(`starts "${a.procedure}" with input "${field}", which is not one of its context fields`);
        for (const [field, spec] of Object.entries(target.ir.context))
          if (spec.required && spec.default === undefined && !(field in (a.input ?? {})))
            problem(`starts "${a.procedure}" without its required input "${field}"`);
        for (const field of nonInputFields(target.ir, a.input ?? {}))
          problem(
            `starts "${a.procedure}" with "${field}", which is not an input field of "${a.procedure}"`,
            notInputHint(inputFields(target.ir)),
            'PROC_START_FIELD_NOT_INPUT',
            `${pointer}/input/${field}`,
          );
        for (const m of startInputMismatches(a, 'event' in t ? t.event : undefined, def.ir, target.ir))
          problem(
            `starts "${a.procedure}" with input "${m.field}" that its start schema can refuse: ${m.reason}`,
            `limit the source field's schema to what "${a.procedure}" takes for "${m.field}", so the event is refused here instead of the linked start failing`,
            'PROC_START_INPUT_MISMATCH',
            `${pointer}/input/${m.field}`,
          );
      });
  }
  // `call:` targets likewise (`call-targets.ts`).
  for (const { procedure, diagnostic } of callTargetDiagnostics(definitions)) {
    out.push(diagnostic);
    broken.add(procedure);
    byProcedure.set(procedure, [...(byProcedure.get(procedure) ?? []), diagnostic]);
  }
  return { diagnostics: out, broken, byProcedure };
}
