/**
 * Loading: YAML text → `ProcedureIR`, or every problem found on the way.
 *
 * 1. Parse with `yaml` (YAML 1.2 core schema, unique keys). Syntax errors are `PROC_YAML_SYNTAX`,
 *    duplicate keys `PROC_DUPLICATE_KEY`; when the text is not well-formed YAML, loading stops
 *    there (the data would be a guess).
 * 2. Validate the data against `definitions/schema/procedure.schema.json` (ajv, strict, all
 *    errors), each error mapped to the line and column of the offending node; every text must be
 *    written in exactly the definition's `languages` (`languages.ts`).
 * 3. Only when both pass, normalise into the IR (see `normalize.ts`).
 *
 * Semantic rules (unknown targets, roles, reachability, expressions, …) are `checkProcedure`'s;
 * `validateProcedureText` runs both and is what tools should call.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { LineCounter, parseDocument } from 'yaml';
import type { Document, YAMLError } from 'yaml';
import schema from '../../definitions/schema/procedure.schema.json' with { type: 'json' };
import type { Diagnostic } from './diagnostics.ts';
import { hasErrors } from './diagnostics.ts';
import type { ProcedureIR } from './ir.ts';
import { languageDiagnostics } from './languages.ts';
import { normalizeProcedure } from './normalize.ts';
import type { RawProcedure, UnknownAction } from './normalize.ts';
import { indexPositions, joinPointer, pointerAtOffset } from './positions.ts';
import type { PositionIndex } from './positions.ts';
import { schemaDiagnostics } from './schema-errors.ts';
import { ACTION_KIND_NAMES } from './actions/index.ts';
import { didYouMean } from './suggest.ts';

export interface LoadResult {
  /** The IR; present only when the text loaded without errors (warnings allowed). Not yet checked. */
  ir?: ProcedureIR;
  diagnostics: Diagnostic[];
  /** Source positions of the document, for later stages' diagnostics. */
  positions: PositionIndex;
}

let validator: ValidateFunction | undefined;

/** The procedure schema's validator, compiled once on first use. */
function procedureValidator(): ValidateFunction {
  validator ??= new Ajv2020({ strict: true, allErrors: true, verbose: true, discriminator: true }).compile(
    schema,
  );
  return validator;
}

/** Load a procedure definition. `file` is only used to label diagnostics. */
export function loadProcedure(text: string, file: string): LoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, version: '1.2' });
  const positions = indexPositions(doc, lineCounter, text);
  const diagnostics = yamlDiagnostics(doc, text, lineCounter, file);
  const wellFormed = doc.errors.every((e) => e.code === 'DUPLICATE_KEY');
  if (!wellFormed) return { diagnostics, positions };

  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  const validate = procedureValidator();
  if (!validate(data)) diagnostics.push(...schemaDiagnostics(validate.errors ?? [], data, positions, file));
  diagnostics.push(...languageDiagnostics(data, positions, file));
  for (const pointer of nonFiniteNumbers(data, '')) {
    const { line, column } = positions.value(pointer);
    diagnostics.push({
      code: 'PROC_SCHEMA',
      severity: 'error',
      file,
      line,
      column,
      pointer,
      message: 'numbers must be finite (.nan and .inf have no JSON form)',
    });
  }
  if (hasErrors(diagnostics)) return { diagnostics, positions };
  const unknownActions: UnknownAction[] = [];
  const ir = normalizeProcedure(data as RawProcedure, unknownActions);
  for (const { pointer, key } of unknownActions) {
    const { line, column } = positions.key(pointer);
    diagnostics.push({
      code: 'PROC_UNKNOWN_ACTION',
      severity: 'error',
      file,
      line,
      column,
      pointer,
      message: `"${key}" is not an action${didYouMean(key, ACTION_KIND_NAMES)}`,
      hint: `an action is exactly one of ${ACTION_KIND_NAMES.join(', ')}`,
    });
  }
  if (unknownActions.length) return { diagnostics, positions };
  return { ir, diagnostics, positions };
}

/** Pointers of every NaN / ±Infinity (YAML `.nan`, `.inf`): the IR must be plain JSON. */
function* nonFiniteNumbers(value: unknown, pointer: string): Generator<string> {
  if (typeof value === 'number' && !Number.isFinite(value)) yield pointer;
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) yield* nonFiniteNumbers(item, joinPointer(pointer, key));
  }
}

function yamlDiagnostics(
  doc: Document.Parsed,
  text: string,
  lineCounter: LineCounter,
  file: string,
): Diagnostic[] {
  const toDiagnostic = (e: YAMLError, severity: 'error' | 'warning'): Diagnostic => {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    const duplicate = e.code === 'DUPLICATE_KEY';
    const key = text.slice(e.pos[0], e.pos[1]).trim();
    return {
      code: duplicate ? 'PROC_DUPLICATE_KEY' : 'PROC_YAML_SYNTAX',
      severity,
      message: duplicate
        ? `duplicate key "${key}": each key may appear only once in a mapping`
        : yamlMessage(e),
      file,
      line,
      column: col,
      pointer: pointerAtOffset(doc, e.pos[0]),
    };
  };
  return [
    ...doc.errors.map((e) => toDiagnostic(e, 'error')),
    ...doc.warnings.map((e) => toDiagnostic(e, 'warning')),
  ];
}

/** yaml's message without its code frame, starting lower-case like ours. */
function yamlMessage(e: YAMLError): string {
  const first = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
  return first.charAt(0).toLowerCase() + first.slice(1);
}
