/**
 * Validation remembered on disk, as proofs are (`proof-cache.ts`): loading and checking a
 * definition (`validateProcedureText`: YAML parse, the procedure schema, every embedded data
 * schema compiled by ajv, the semantic checks) is pure, so its result for one text and one file
 * name is a function of those and of the code that validates. `custodia validate`, `verify` and
 * the worker's start load the same unchanged files again and again; with this cache only the
 * first does the work.
 *
 * Key: SHA-256 of the code identity (every `workflows/core` source file and the CEL evaluator's
 * version — `verifierCodeId` —, the definition JSON Schema, the versions of `yaml`, `ajv` and
 * `re2js`), the file name diagnostics carry, and the text. An entry holds the diagnostics and the
 * IR (plain JSON); source positions (a view over the parsed YAML) are not stored: a definition read
 * from the cache parses its text again the first time a position is asked for (a proof that
 * failed, a link between definitions that is wrong) — never on the path where all is well.
 * Entries live in `data/validation-cache/` (git-ignored), one JSON file each; writing is best
 * effort, a corrupt or unreadable entry is recomputed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './settings.ts';
import { verifierCodeId } from './proof-cache.ts';
import { loadProcedure } from '../workflows/core/load.ts';
import { NO_POSITIONS, type PositionIndex } from '../workflows/core/positions.ts';
import { validateProcedureText, type ValidationResult } from '../workflows/core/validate.ts';

export const VALIDATION_CACHE_DIR = path.join(REPO_ROOT, 'data', 'validation-cache');

let codeIdentity: string | undefined;

/** Hash of the code that validates: the verifier's identity, the definition schema, yaml/ajv/re2js versions. */
export function validatorCodeId(root = REPO_ROOT): string {
  if (codeIdentity && root === REPO_ROOT) return codeIdentity;
  const hash = createHash('sha256').update(verifierCodeId(root));
  const read = (file: string): string => {
    try {
      return readFileSync(path.join(root, file), 'utf8');
    } catch {
      return '?';
    }
  };
  hash.update(read('definitions/schema/procedure.schema.json'));
  for (const pkg of ['yaml', 'ajv', 're2js']) {
    let version = '?';
    try {
      version = (JSON.parse(read(`node_modules/${pkg}/package.json`)) as { version?: string }).version ?? '?';
    } catch {
      // unreadable: '?' (still a stable key)
    }
    hash.update(`\0${pkg} ${version}`);
  }
  const id = hash.digest('hex');
  if (root === REPO_ROOT) codeIdentity = id;
  return id;
}

/** Positions of `text`, parsed the first time one is asked for. */
function lazyPositions(text: string, file: string): PositionIndex {
  let index: PositionIndex | undefined;
  const get = (): PositionIndex => (index ??= loadProcedure(text, file).positions ?? NO_POSITIONS);
  return {
    value: (pointer) => get().value(pointer),
    key: (pointer) => get().key(pointer),
    inString: (pointer, offset) => get().inString(pointer, offset),
  };
}

/** `validateProcedureText(text, file)`, from the cache in `dir` when this exact text was validated before. */
export function cachedValidate(
  text: string,
  file: string,
  dir = VALIDATION_CACHE_DIR,
  code = validatorCodeId(),
): ValidationResult {
  const key = createHash('sha256')
    .update(code)
    .update('\0')
    .update(file)
    .update('\0')
    .update(text)
    .digest('hex');
  const entry = path.join(dir, `${key}.json`);
  try {
    const cached = JSON.parse(readFileSync(entry, 'utf8')) as {
      key?: string;
      result?: Omit<ValidationResult, 'positions'>;
    };
    if (cached.key === key && cached.result && Array.isArray(cached.result.diagnostics)) {
      const { ir, diagnostics } = cached.result;
      return ir ? { ir, diagnostics, positions: lazyPositions(text, file) } : { diagnostics };
    }
  } catch {
    // not cached (or unreadable): validate
  }
  const result = validateProcedureText(text, file);
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${entry}.${process.pid}.tmp`;
    const stored = result.ir
      ? { ir: result.ir, diagnostics: result.diagnostics }
      : { diagnostics: result.diagnostics };
    writeFileSync(tmp, JSON.stringify({ key, file, result: stored }));
    renameSync(tmp, entry);
  } catch {
    // a read-only checkout: the result is still correct, only not remembered
  }
  return result;
}
