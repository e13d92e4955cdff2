/**
 * Across definitions, for register lookups (`lookup` action): the register a definition looks up
 * is declared by it (its own `records:`, checked per definition) and written by another; the set
 * of definitions must agree on it. An error when a field the lookup reads (match, validity, fields
 * sent back) has another type in a definition that declares the same register; a warning when no
 * definition of the set writes the register (every lookup would answer "missing").
 */
import type { Diagnostic } from '../workflows/core/diagnostics.ts';
import { allTransitions } from '../workflows/core/ir-walk.ts';
import type { LoadedDefinition } from './drafts.ts';

/** The diagnostics of every lookup in the set, by the procedure whose lookup they concern. */
export function checkLookupRegisters(
  definitions: ReadonlyMap<string, LoadedDefinition>,
): Map<string, Diagnostic[]> {
  const out = new Map<string, Diagnostic[]>();
  const writers = new Set<string>();
  for (const def of definitions.values())
    for (const { transition: t } of allTransitions(def.ir.root))
      for (const a of t.actions) if (a.kind === 'record') writers.add(a.record);
  for (const def of definitions.values())
    for (const { transition: t } of allTransitions(def.ir.root))
      t.actions.forEach((a, i) => {
        if (a.kind !== 'lookup') return;
        const own = def.ir.records?.[a.register];
        if (!own) return; // reported by the definition's own check
        const pointer = `${t.pointer}/actions/${i}/lookup`;
        const report = (severity: Diagnostic['severity'], message: string, hint: string): void => {
          const at = def.positions?.value(`${pointer}/register`);
          const d: Diagnostic = {
            code: 'PROC_LOOKUP_FIELD',
            severity,
            message,
            file: def.file,
            line: at?.line ?? 1,
            column: at?.column ?? 1,
            pointer: `${pointer}/register`,
            hint,
          };
          out.set(def.ir.id, [...(out.get(def.ir.id) ?? []).filter((x) => x.message !== message), d]);
        };
        if (!writers.has(a.register))
          report(
            'warning',
            `register "${a.register}" looked up by "${def.ir.id}" is written by no definition loaded: the lookup will always find nothing`,
            'deploy the procedure that writes it (a `record` action naming it)',
          );
        const read = [...Object.keys(a.match ?? {}), ...a.fields, a.valid?.from, a.valid?.until];
        for (const other of definitions.values()) {
          const theirs = other.ir.records?.[a.register];
          if (!theirs || other === def) continue;
          for (const field of read) {
            if (!field) continue;
            const mine = own.fields[field]?.type;
            const their = theirs.fields[field]?.type;
            if (mine && their && mine !== their)
              report(
                'error',
                `register "${a.register}" field "${field}" is ${mine} in "${def.ir.id}" but ${their} in "${other.ir.id}"`,
                'declare the register alike wherever it is declared',
              );
          }
        }
      });
  return out;
}
