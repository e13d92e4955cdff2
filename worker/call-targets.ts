/**
 * Step 3 of the draft pipeline for `call:` (beside `start` targets, `drafts.ts`): every call names
 * a procedure in the set, and that procedure fits it — its input, its final states against
 * `on_done`, the output fields (`calleeProblems` in `workflows/core/call.ts`). Positioned in the
 * calling definition.
 */
import { calleeProblems } from '../workflows/core/call.ts';
import type { Diagnostic } from '../workflows/core/diagnostics.ts';
import { walkStates } from '../workflows/core/ir-walk.ts';
import type { LoadedDefinition } from './drafts.ts';

/** The diagnostics of every call in `definitions`, each with the procedure whose call it concerns. */
export function callTargetDiagnostics(
  definitions: ReadonlyMap<string, LoadedDefinition>,
): { procedure: string; diagnostic: Diagnostic }[] {
  const out: { procedure: string; diagnostic: Diagnostic }[] = [];
  for (const def of definitions.values())
    for (const state of walkStates(def.ir.root)) {
      const call = state.call;
      if (!call) continue;
      const at = (pointer: string, key?: boolean) =>
        (key ? def.positions?.key(pointer) : def.positions?.value(pointer)) ?? { line: 1, column: 1 };
      const push = (d: Omit<Diagnostic, 'file' | 'line' | 'column' | 'severity'>, key?: boolean) =>
        out.push({
          procedure: def.ir.id,
          diagnostic: { severity: 'error', file: def.file, ...at(d.pointer, key), ...d },
        });
      const callee = definitions.get(call.procedure);
      if (!callee) {
        push({
          code: 'PROC_UNKNOWN_PROCEDURE',
          pointer: `${call.pointer}/procedure`,
          message: `calls procedure "${call.procedure}", which is not among the definitions loaded`,
          hint: `known: ${[...definitions.keys()].join(', ')}`,
        });
        continue;
      }
      for (const p of calleeProblems(def.ir, state, callee.ir))
        push(
          { code: p.code, pointer: p.pointer, message: p.message, ...(p.hint ? { hint: p.hint } : {}) },
          p.at === 'key',
        );
    }
  return out;
}
