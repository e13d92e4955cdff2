/**
 * `custodia verify <file|dir>...` — prove every invariant of every definition on all paths.
 *
 * Definitions are validated first (problems printed as `file:line:col CODE message`; an invalid
 * definition fails). Each valid one is verified: `✓ <id>: N invariant(s) hold (K configurations
 * explored)`, or per invariant not proved a `file:line:col PROC_INVARIANT_VIOLATED …` line at the
 * invariant, the reason, and the shortest counterexample path. Exit 1 on any problem. Invariants
 * that hold vacuously (`PROC_INVARIANT_VACUOUS`, `PROC_INVARIANT_FIELD_NEVER_ASSIGNED`) are printed
 * as warnings and do not change the exit code. Eventless transitions that can loop without end are
 * `file:line:col PROC_EVENTLESS_LOOP …` at the first transition of the cycle (exit 1).
 */
import { existsSync, readFileSync } from 'node:fs';
import { formatDiagnostic } from '../../workflows/core/diagnostics.ts';
import type { InvariantIR } from '../../workflows/core/ir.ts';
import { loadProcedure } from '../../workflows/core/load.ts';
import type { PositionIndex, SourcePosition } from '../../workflows/core/positions.ts';
import {
  eventlessLoopDiagnostics,
  formatCounterexample,
  type InvariantResult,
  type VerifyOptions,
} from '../../workflows/core/verify.ts';
import { loadDefinitions, type LoadedDefinition } from '../definitions.ts';
import { cachedVerify } from '../proof-cache.ts';
import { parseOptions, UsageError } from './options.ts';

export function verifyCommand(args: string[]): number {
  const { values, positionals } = parseOptions(args, {
    'max-configurations': { type: 'string' },
    'max-depth': { type: 'string' },
  });
  if (!positionals.length) throw new UsageError('verify needs at least one file or folder');
  for (const a of positionals) if (!existsSync(a)) throw new UsageError(`no such file or folder: ${a}`);
  const opts: VerifyOptions = {};
  const maxConfigurations = countOption('max-configurations', values['max-configurations']);
  const maxDepth = countOption('max-depth', values['max-depth']);
  if (maxConfigurations !== undefined) opts.maxConfigurations = maxConfigurations;
  if (maxDepth !== undefined) opts.maxDepth = maxDepth;

  const set = loadDefinitions(positionals, process.cwd(), { verify: false });
  for (const d of set.diagnostics)
    (d.severity === 'error' ? console.error : console.warn)(formatDiagnostic(d));
  if (!set.files.length) {
    console.error('no definitions (*.yaml, *.yml) found');
    return 1;
  }
  let failed = set.diagnostics.some((d) => d.severity === 'error');
  for (const def of set.definitions.values()) if (!verifyDefinition(def, opts)) failed = true;
  return failed ? 1 : 0;
}

function countOption(name: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive whole number`);
  return n;
}

/** Verify one definition and print the outcome; `true` when every invariant holds. */
function verifyDefinition(def: LoadedDefinition, opts: VerifyOptions): boolean {
  const { ir } = def;
  const result = cachedVerify(ir, opts);
  const failures = result.invariants.filter((r) => !r.holds);
  const loops = eventlessLoopDiagnostics(result, def.file, invariantSource(def));
  for (const d of loops) console.error(formatDiagnostic(d));
  if (result.warnings.length) {
    const positionOf = invariantPositions(def);
    for (const w of result.warnings) {
      const at = positionOf(ir.invariants.findIndex((inv) => inv.id === w.invariant));
      const code = w.code === 'vacuous' ? 'PROC_INVARIANT_VACUOUS' : 'PROC_INVARIANT_FIELD_NEVER_ASSIGNED';
      console.warn(
        `${def.file}:${at.line}:${at.column} ${code} warning: invariant ${w.invariant} — ${w.message}`,
      );
    }
  }
  if (!failures.length && !loops.length) {
    const cut = result.exhaustive ? '' : ', search cut short';
    console.log(
      `✓ ${ir.id}: ${result.invariants.length} invariant(s) hold (${result.explored} configurations explored${cut})`,
    );
    return true;
  }
  const positionOf = invariantPositions(def);
  for (const r of failures) {
    const index = ir.invariants.findIndex((inv) => inv.id === r.id);
    const inv = ir.invariants[index];
    const at = positionOf(index);
    const what = r.counterexample ? 'violated' : 'not proved';
    console.error(
      `${def.file}:${at.line}:${at.column} PROC_INVARIANT_VIOLATED invariant ${r.id} (${r.kind}) ${what} — ${describe(inv)}`,
    );
    console.error(explain(r));
  }
  if (loops.length) console.error(`✗ ${ir.id}: ${loops.length} eventless loop(s)`);
  if (!failures.length) return false;
  console.error(
    `✗ ${ir.id}: ${failures.length} of ${result.invariants.length} invariant(s) not proved (${result.explored} configurations explored${result.exhaustive ? '' : ', search cut short'})`,
  );
  return false;
}

function describe(inv: InvariantIR | undefined): string {
  return inv?.description.en ?? '';
}

function explain(r: InvariantResult): string {
  const lines: string[] = [];
  if (r.note) lines.push(`  ${r.note}`);
  if (r.counterexample)
    lines.push('  counterexample:', formatCounterexample(r.counterexample).replace(/^/gm, '  '));
  return lines.join('\n');
}

/** The definition's source positions (parsed only when asked for), or read again from its file. */
function invariantSource(def: LoadedDefinition): PositionIndex | undefined {
  if (def.positions) return def.positions;
  try {
    return loadProcedure(readFileSync(def.file, 'utf8'), def.file).positions;
  } catch {
    return undefined;
  }
}

/** Where each invariant starts in the definition's source (line 1, column 1 when unknown). */
function invariantPositions(def: LoadedDefinition): (index: number) => SourcePosition {
  const known = def.positions;
  if (known) return (index) => (index < 0 ? { line: 1, column: 1 } : known.value(`/invariants/${index}`));
  try {
    const { positions } = loadProcedure(readFileSync(def.file, 'utf8'), def.file);
    return (index) => (index < 0 ? { line: 1, column: 1 } : positions.value(`/invariants/${index}`));
  } catch {
    return () => ({ line: 1, column: 1 });
  }
}
