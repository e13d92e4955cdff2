/**
 * The definitions a process knows: every `*.yaml` / `*.yml` under the definitions folders,
 * validated with the same `workflows/core` code the UI uses, hashed, keyed by procedure id.
 * A definition with any error is never offered for start.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { hashProcedure } from '../workflows/core/hash.ts';
import type { Diagnostic } from '../workflows/core/diagnostics.ts';
import type { ProcedureIR } from '../workflows/core/ir.ts';
import { validateProcedureText } from '../workflows/core/validate.ts';

export interface LoadedDefinition {
  file: string;
  ir: ProcedureIR;
  hash: string;
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
        if (name === 'schema' || name === 'node_modules' || name.startsWith('.')) continue;
        const child = path.join(p, name);
        if (statSync(child).isDirectory() || /\.ya?ml$/.test(name)) visit(child);
      }
    } else out.push(p);
  };
  for (const input of inputs) visit(input);
  return out;
}

/** Load and check every definition; `definitions` holds only the valid ones. */
export function loadDefinitions(inputs: readonly string[], cwd = process.cwd()): DefinitionSet {
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
    definitions.set(result.ir.id, { file: display, ir: result.ir, hash: hashProcedure(result.ir) });
  }
  return { definitions, diagnostics, files };
}
