/**
 * `custodia migrate <procedure> [--to VERSION] --dry-run [--json]` — classify every running
 * instance of a procedure for a move to a deployed version (default: the highest), nothing changed;
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
  type DryRun,
  type MigrationDeps,
} from '../migration/migrations.ts';
import { withStore } from './audit.ts';
import { connect, parseOptions, UsageError } from './options.ts';

function printPlan(out: DryRun): void {
  console.log(
    `${out.procedure} → ${out.to.version}: ${out.total} running; moves ${out.counts.moves}, ` +
      `needs mapping ${out.counts.needs_mapping}, cannot move ${out.counts.cannot_move} ` +
      `(proof: ${out.proof.explored} configurations${out.proof.exhaustive ? '' : ', not exhaustive'})`,
  );
  for (const i of out.instances) {
    const p = i.plan;
    const what =
      p.class === 'moves' ? `${p.from.join(', ')} → ${p.to.join(', ')}` : `${p.code}: ${p.message}`;
    console.log(`${i.workflowId}\t${i.fromVersion}\t${p.class}\t${what}`);
  }
}

export async function migrateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    to: { type: 'string' },
    'dry-run': { type: 'boolean' },
    as: { type: 'string' },
    json: { type: 'boolean' },
  });
  const [procedure, ...extra] = positionals;
  if (!procedure || extra.length) throw new UsageError('migrate needs <procedure>');
  const dry = values['dry-run'] === true;
  if (!dry && typeof values.as !== 'string')
    throw new UsageError('migrate needs --dry-run, or --as USER (an admin) to move instances');
  const to = typeof values.to === 'string' ? values.to : undefined;
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
      const plan = await dryRun(deps, procedure, target);
      if (dry) {
        if (values.json) console.log(JSON.stringify(plan, null, 2));
        else printPlan(plan);
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
