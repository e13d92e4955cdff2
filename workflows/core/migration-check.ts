/**
 * Checks of a definition's `migrate:` mapping (old leaf path → state of this version): every target
 * is a state of this version that instances can sit in (not final). The sources name states of
 * older versions: they are checked against the version an instance runs, by the plan (`migration.ts`).
 */
import type { CheckContext } from './check-report.ts';
import { indexStates, leafStatePaths } from './ir-walk.ts';
import { joinPointer } from './positions.ts';
import { didYouMean } from './suggest.ts';

export function checkMigration({ ir, report }: CheckContext): void {
  if (!ir.migrate) return;
  const nodes = indexStates(ir.root);
  for (const [from, to] of Object.entries(ir.migrate)) {
    const pointer = joinPointer('/migrate', from);
    const node = nodes.get(to);
    if (!node || to === '')
      report(
        'PROC_UNKNOWN_STATE',
        pointer,
        `migrate maps ${from} to "${to}", which is no state of ${ir.id}${didYouMean(to, leafStatePaths(ir))}`,
        { hint: 'a migrate target is a state path of this version, e.g. review.pending' },
      );
    else if (node.type === 'final')
      report(
        'PROC_BAD_MIGRATION',
        pointer,
        `migrate maps ${from} to the final state "${to}": a migration never ends an instance`,
        { hint: 'map it to a state where the instance can still act' },
      );
  }
}
