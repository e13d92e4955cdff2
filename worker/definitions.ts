/**
 * The definitions a process knows: every `*.yaml` / `*.yml` under the definitions folders,
 * validated with the same `workflows/core` code the UI uses, hashed, keyed by procedure id.
 * A definition with any error is never offered for start.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseClauses, type Clause } from '../workflows/core/clauses.ts';
import { hashProcedure } from '../workflows/core/hash.ts';
import type { Diagnostic } from '../workflows/core/diagnostics.ts';
import type { ProcedureIR, StateIR } from '../workflows/core/ir.ts';
import type { PositionIndex } from '../workflows/core/positions.ts';
import { validateProcedureText } from '../workflows/core/validate.ts';
import { verifyProcedure } from '../workflows/core/verify.ts';

export interface LoadedDefinition {
  file: string;
  ir: ProcedureIR;
  hash: string;
  /** Source positions, for diagnostics that span definitions. */
  positions?: PositionIndex;
}

export interface DefinitionSet {
  definitions: Map<string, LoadedDefinition>;
  diagnostics: Diagnostic[];
  files: string[];
}

/** Every YAML file named by `inputs` (files, or folders searched recursively, `schema/` skipped). */
export function definitionFiles(inputs: readonly string[]): string[] {
  const out: string[] = [];
  const visit = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        // schema/ holds the JSON Schema, procedure/ the procedure text and coverage notes.
        if (name === 'schema' || name === 'procedure' || name === 'node_modules' || name.startsWith('.'))
          continue;
        const child = path.join(p, name);
        if (statSync(child).isDirectory() || /\.ya?ml$/.test(name)) visit(child);
      }
    } else out.push(p);
  };
  for (const input of inputs) visit(input);
  return out;
}

export interface LoadOptions {
  /** Prove each definition's invariants on all paths (default true); a violation makes it invalid. */
  verify?: boolean;
}

/**
 * Load and check every definition; `definitions` holds only the valid ones. Validation includes
 * the all-paths invariant proof, so an edit that breaks a clause never goes live.
 */
export function loadDefinitions(
  inputs: readonly string[],
  cwd = process.cwd(),
  opts: LoadOptions = {},
): DefinitionSet {
  const files = definitionFiles(inputs);
  const definitions = new Map<string, LoadedDefinition>();
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    const display = path.relative(cwd, file) || file;
    const result = validateProcedureText(readFileSync(file, 'utf8'), display);
    diagnostics.push(...result.diagnostics);
    if (!result.ir) continue;
    const previous = definitions.get(result.ir.id);
    if (previous) {
      diagnostics.push({
        code: 'PROC_DUPLICATE_ID',
        severity: 'error',
        message: `procedure id "${result.ir.id}" is also defined in ${previous.file}`,
        file: display,
        line: 1,
        column: 1,
        pointer: '/id',
      });
      continue;
    }
    definitions.set(result.ir.id, {
      file: display,
      ir: result.ir,
      hash: hashProcedure(result.ir),
      ...(result.positions ? { positions: result.positions } : {}),
    });
  }
  const links = checkStartTargets(definitions);
  diagnostics.push(...links.diagnostics);
  for (const id of links.broken) definitions.delete(id);
  if (opts.verify !== false)
    for (const def of [...definitions.values()]) {
      const violations = invariantDiagnostics(def);
      diagnostics.push(...violations);
      if (violations.length) definitions.delete(def.ir.id);
    }
  return { definitions, diagnostics, files };
}

/** Invariants of one definition that are not proved on all paths, as diagnostics. */
export function invariantDiagnostics(def: LoadedDefinition): Diagnostic[] {
  const result = verifyProcedure(def.ir);
  return result.invariants
    .filter((r) => !r.holds)
    .map((r) => {
      const index = def.ir.invariants.findIndex((inv) => inv.id === r.id);
      const pointer = `/invariants/${index}`;
      const at = def.positions?.value(pointer) ?? { line: 1, column: 1 };
      const path = r.counterexample
        ? `; counterexample: ${r.counterexample.map((step) => `${step.event} → ${step.to.join('+')}`).join(', ')}`
        : '';
      return {
        code: 'PROC_INVARIANT_VIOLATED' as const,
        severity: 'error' as const,
        message: `invariant ${r.id} (${r.kind}) ${r.counterexample ? 'violated' : 'not proved'}${path}`,
        file: def.file,
        line: at.line,
        column: at.column,
        pointer,
        hint: r.note ?? 'run `custodia verify` for the full path',
      };
    });
}

/**
 * Across definitions: every `start` action names a procedure in the set, and its input fields
 * are context fields of that procedure. (A definition alone cannot know the others.)
 */
export function checkStartTargets(definitions: ReadonlyMap<string, LoadedDefinition>): {
  diagnostics: Diagnostic[];
  broken: Set<string>;
} {
  const out: Diagnostic[] = [];
  const broken = new Set<string>();
  for (const def of definitions.values()) {
    const visit = (node: StateIR): void => {
      const transitions = [...Object.values(node.on).flat(), ...node.after];
      for (const t of transitions)
        t.actions.forEach((a, i) => {
          if (a.kind !== 'start') return;
          const pointer = `${t.pointer}/actions/${i}`;
          const target = definitions.get(a.procedure);
          const problem = (message: string, hint?: string): void => {
            out.push({
              code: 'PROC_UNKNOWN_PROCEDURE',
              severity: 'error',
              message,
              file: def.file,
              line: def.positions?.value(pointer).line ?? 1,
              column: def.positions?.value(pointer).column ?? 1,
              pointer,
              ...(hint ? { hint } : {}),
            });
            broken.add(def.ir.id);
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
              problem(
                `starts "${a.procedure}" with input "${field}", which is not one of its context fields`,
              );
          for (const [field, spec] of Object.entries(target.ir.context))
            if (spec.required && spec.default === undefined && !(field in (a.input ?? {})))
              problem(`starts "${a.procedure}" without its required input "${field}"`);
        });
      Object.values(node.states).forEach(visit);
    };
    visit(def.ir.root);
  }
  return { diagnostics: out, broken };
}

/**
 * The procedure's clauses from `procedure/clauses.zh.txt` + `clauses.en.txt` in the first of
 * `dirs` that has them (the UI shows each task's clause text); empty when none has.
 */
export function loadProcedureClauses(dirs: readonly string[]): Clause[] {
  for (const dir of dirs) {
    const folder = path.join(dir, 'procedure');
    const zh = path.join(folder, 'clauses.zh.txt');
    const en = path.join(folder, 'clauses.en.txt');
    if (existsSync(zh) && existsSync(en))
      return parseClauses(readFileSync(zh, 'utf8'), readFileSync(en, 'utf8'));
  }
  return [];
}
