/**
 * `custodia migrate <procedure> [--to VERSION] --dry-run [--within PT1H] [--json]` — classify every
 * running instance of a procedure for a move to a deployed version (default: the highest), nothing
 * changed, and say which of the new version's deadlines each move sets off at once (a warning
 * line with the totals) and which fall due within `--within` (default an hour);
 * `custodia migrate <procedure> [--to VERSION] --as USER` — move those that can (8 at a time),
 * as a directory admin; each move is the instance's own `migrate` update and its `$migrate` audit
 * record. Exit 1 when any instance was not moved (dry run: when any cannot move or needs mapping).
 */
import { actorSigner } from '../actor-keys.ts';
import type { LoadedDefinition } from '../definitions.ts';
import { refreshFromStore } from '../deploy.ts';
import { directoryActor, NotADirectoryActor } from '../directory-actor.ts';
import { parseActor } from '../instances.ts';
import {
  describeMove,
  dryRun,
  mapLimit,
  migrateInstance,
  migrationTarget,
  MigrationRefusedError,
  parseHorizon,
  type DeadlineSummary,
  type DeadlineView,
  type DryRun,
  type MigrationDeps,
} from '../migration/migrations.ts';
import { withStore } from './audit.ts';
import { connect, parseOptions, UsageError } from './options.ts';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** `3 reminders, 1 escalation, …` of a summary's counts (kinds with none left out). */
function kinds(c: DeadlineSummary['atOnce']): string {
  return [
    c.remind ? plural(c.remind, 'reminder') : '',
    c.escalate ? plural(c.escalate, 'escalation') : '',
    c.after ? plural(c.after, 'after: timer') : '',
    c.due ? plural(c.due, 'due time') : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** One deadline: `remind review (PT2S after entry, due 2026-…Z) → quality_manager`. */
function deadlineText(d: DeadlineView): string {
  const who = d.to ? ` → ${d.to}` : '';
  const level = d.level ? ` level ${d.level}` : '';
  const moves = d.moves ? `, moves to ${d.moves.join(', ')}` : '';
  return `${d.kind}${level} ${d.state} (${d.delay} after entry at ${d.since}, due ${d.at})${who}${moves}`;
}

const minutes = (ms: number): string =>
  ms % 3_600_000 === 0 ? plural(ms / 3_600_000, 'hour') : plural(Math.round(ms / 60_000), 'minute');

/** The warning when moving sets deadlines off at once (undefined: nothing fires at once). */
export function deadlineWarning(out: DryRun): string | undefined {
  const { atOnce } = out.deadlines;
  if (!atOnce.instances) return undefined;
  return (
    `WARNING: migrating sets off at once, for ${plural(atOnce.instances, 'instance')}: ${kinds(atOnce)} ` +
    `(deadlines of ${out.to.version} already past, counted from the entry of the state)`
  );
}

/** The dry run as text: the summary, the warning, a line per instance and its deadlines. */
export function formatDryRun(out: DryRun): string[] {
  const lines = [
    `${out.procedure} → ${out.to.version}: ${out.total} running; moves ${out.counts.moves}, ` +
      `needs mapping ${out.counts.needs_mapping}, cannot move ${out.counts.cannot_move} ` +
      `(proof: ${out.proof.explored} configurations${out.proof.exhaustive ? '' : ', not exhaustive'})`,
  ];
  const { soon, unknown, withinMs } = out.deadlines;
  lines.push(deadlineWarning(out) ?? 'no deadline of the new version fires at once');
  if (soon.instances)
    lines.push(
      `within ${minutes(withinMs)} after: ${kinds(soon)} fall due, for ${plural(soon.instances, 'instance')}`,
    );
  if (unknown) lines.push(`deadlines unknown for ${plural(unknown, 'moving instance')}`);
  for (const i of out.instances) {
    const p = i.plan;
    const what =
      p.class === 'moves' ? `${p.from.join(', ')} → ${p.to.join(', ')}` : `${p.code}: ${p.message}`;
    lines.push(`${i.workflowId}\t${i.fromVersion}\t${p.class}\t${what}`);
    for (const d of i.deadlines?.atOnce ?? []) lines.push(`  at once: ${deadlineText(d)}`);
    for (const d of i.deadlines?.soon ?? []) lines.push(`  soon: ${deadlineText(d)}`);
    if (i.deadlinesUnknown) lines.push(`  deadlines unknown: ${i.deadlinesUnknown}`);
  }
  return lines;
}

export async function migrateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    to: { type: 'string' },
    'dry-run': { type: 'boolean' },
    as: { type: 'string' },
    json: { type: 'boolean' },
    within: { type: 'string' },
  });
  const [procedure, ...extra] = positionals;
  if (!procedure || extra.length) throw new UsageError('migrate needs <procedure>');
  const dry = values['dry-run'] === true;
  if (!dry && typeof values.as !== 'string')
    throw new UsageError('migrate needs --dry-run, or --as USER (an admin) to move instances');
  const to = typeof values.to === 'string' ? values.to : undefined;
  const withinMs = parseHorizon(typeof values.within === 'string' ? values.within : 'PT1H');
  if (withinMs === undefined)
    throw new UsageError('--within must be an ISO-8601 duration of at most 30 days (PT1H, P1D…)');
  const { client } = await connect();
  try {
    return await withStore(async (store) => {
      const definitions = new Map<string, LoadedDefinition>();
      await refreshFromStore(store, definitions);
      const deps: MigrationDeps = { client, store, definitions };
      let target;
      try {
        target = await migrationTarget(deps, procedure, to);
      } catch (err) {
        if (err instanceof MigrationRefusedError) {
          console.error(`refused (${err.code}): ${err.message}`);
          return 1;
        }
        throw err;
      }
      const plan = await dryRun(deps, procedure, target, undefined, { withinMs });
      if (dry) {
        if (values.json) console.log(JSON.stringify(plan, null, 2));
        else for (const line of formatDryRun(plan)) console.log(line);
        return plan.counts.moves === plan.total ? 0 : 1;
      }
      let actor;
      try {
        actor = await directoryActor(store, parseActor(String(values.as)), { allRolesWhenNone: true });
      } catch (err) {
        if (err instanceof NotADirectoryActor) {
          console.error(`refused: ${err.message}`);
          return 1;
        }
        throw err;
      }
      if (!actor.roles.includes('admin')) {
        console.error(`refused: ${actor.id} is not an admin: only admins migrate instances`);
        return 1;
      }
      const warning = deadlineWarning(plan);
      if (warning) console.log(warning);
      let moved = 0;
      const refusedIds: string[] = [];
      await mapLimit(plan.instances, 8, async (i) => {
        try {
          const r = await migrateInstance(client, actorSigner(), target, i, actor);
          moved++;
          console.log(`${i.workflowId}\tmoved\t${describeMove(r.from.version, r.to.version, r.plan)}`);
        } catch (err) {
          if (!(err instanceof MigrationRefusedError)) throw err;
          refusedIds.push(`${i.workflowId}:${err.code}`);
          console.log(`${i.workflowId}\tnot moved\t${err.code}: ${err.message}`);
        }
      });
      await store.appendAdminRecord({
        kind: 'admin',
        subject: `migration:cli:${procedure}`,
        actorId: actor.id,
        body: {
          act: 'migration',
          procedure,
          toVersion: target.version,
          toHash: target.hash,
          total: plan.total,
          ok: moved,
          refused: refusedIds.length,
          refusedIds,
        },
      });
      console.log(`moved ${moved} of ${plan.total} to ${target.version}`);
      return moved === plan.total ? 0 : 1;
    });
  } finally {
    await client.connection.close();
  }
}
