/**
 * Validation: the one call tools make (CLI `validate`, the worker's definition loader, the UI's
 * editor). Loads the text, runs the semantic checks on what loaded, and returns every problem
 * at once, sorted by position. The IR is returned only when there is no error (warnings allowed).
 *
 * Semantic checks need a structurally sound document: when the YAML does not parse or the
 * schema rejects it, only those problems are reported (fixing them may reveal more).
 */
import { sortDiagnostics, checkProcedure } from './check.ts';
import type { Diagnostic } from './diagnostics.ts';
import { hasErrors } from './diagnostics.ts';
import type { ProcedureIR } from './ir.ts';
import { loadProcedure } from './load.ts';
import type { PositionIndex } from './positions.ts';

export interface ValidationResult {
  /** The checked IR; present only when there is no error. */
  ir?: ProcedureIR;
  diagnostics: Diagnostic[];
  /** Source positions of the loaded document (for diagnostics found later, e.g. across definitions). */
  positions?: PositionIndex;
}

/** Load and check a procedure definition. `file` labels the diagnostics. */
export function validateProcedureText(text: string, file: string): ValidationResult {
  const loaded = loadProcedure(text, file);
  const diagnostics = [...loaded.diagnostics];
  if (loaded.ir) diagnostics.push(...checkProcedure(loaded.ir, { file, positions: loaded.positions }));
  const sorted = sortDiagnostics(diagnostics);
  return loaded.ir && !hasErrors(sorted)
    ? { ir: loaded.ir, diagnostics: sorted, positions: loaded.positions }
    : { diagnostics: sorted };
}
