/**
 * The definitions a process knows: every `*.yaml` / `*.yml` under the definitions folders, put
 * through the one draft pipeline (`drafts.ts`: load, check, prove, start targets) — the same
 * `workflows/core` code the UI uses — hashed, keyed by procedure id. A definition with any error is
 * never offered for start.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseClauses, type Clause } from '../workflows/core/clauses.ts';
import type { Diagnostic } from '../workflows/core/diagnostics.ts';
import { assessDrafts, type LoadedDefinition } from './drafts.ts';
import { cachedVerify } from './proof-cache.ts';
import { cachedValidate } from './validation-cache.ts';

export { checkStartTargets, invariantDiagnostics, type LoadedDefinition } from './drafts.ts';

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
  verify?: boolean | ((procedureId: string) => boolean);
}

/**
 * Load and assess every definition file together (`assessDrafts`); `definitions` holds only the
 * valid ones. Validation includes the all-paths invariant proof, so an edit that breaks a clause
 * never goes live.
 */
export function loadDefinitions(
  inputs: readonly string[],
  cwd = process.cwd(),
  opts: LoadOptions = {},
): DefinitionSet {
  const files = definitionFiles(inputs);
  const drafts = files.map((file) => ({
    yaml: readFileSync(file, 'utf8'),
    file: path.relative(cwd, file) || file,
  }));
  const set = assessDrafts(drafts, new Map(), {
    prove: opts.verify ?? true,
    verify: (ir) => cachedVerify(ir),
    validate: (yaml, file) => cachedValidate(yaml, file),
  });
  return { definitions: set.definitions, diagnostics: set.diagnostics, files };
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
