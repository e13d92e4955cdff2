/**
 * `custodia assign <workflowId> <user|-> [--state S] --as USER:ROLE[,ROLE]` — claim, release,
 * delegate or assign the task of an active state (the `assign` update). `-` leaves it unassigned.
 * The actor and the assignee are checked against the user directory (exists, enabled, roles);
 * the engine checks the rest (who may assign, qualification, separation of duties).
 */
import type { Actor } from '../../workflows/core/ir.ts';
import { actorSigner } from '../actor-keys.ts';
import { AssignmentRejected, assignTask, directoryAssignee, signedAssignment } from '../assignment.ts';
import { directoryActor, NotADirectoryActor } from '../directory-actor.ts';
import { parseActor } from '../instances.ts';
import { isRecordsError } from '../records/errors.ts';
import { withStore } from './audit.ts';
import { connect, parseOptions, UsageError } from './options.ts';

export async function assignCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { state: { type: 'string' }, as: { type: 'string' } });
  const [workflowId, who, ...extra] = positionals;
  if (!workflowId || !who || extra.length) throw new UsageError('assign needs <workflowId> <user|->');
  if (typeof values.as !== 'string') throw new UsageError('assign needs --as USER:ROLE[,ROLE]');
  const claimed = parseActor(values.as);
  let actor: Actor;
  let assignee: Actor | undefined;
  try {
    ({ actor, assignee } = await withStore(async (store) => {
      const a = await directoryActor(store, claimed);
      if (who === '-') return { actor: a, assignee: undefined };
      const user = await directoryAssignee(store, who);
      return { actor: a, assignee: { id: user.id, roles: [...user.roles] } };
    }));
  } catch (err) {
    if (err instanceof NotADirectoryActor || err instanceof AssignmentRejected) {
      console.error(`refused: ${err.message}`);
      return 1;
    }
    if (isRecordsError(err, 'STORE_IN_USE'))
      throw new Error(
        'assign checks both people against the user directory and cannot open it while `npm start` holds it; ' +
          'use the web UI or POST /api/instances/{id}/assignment',
        { cause: err },
      );
    throw err;
  }
  const state = typeof values.state === 'string' ? values.state : undefined;
  const input = signedAssignment(
    actorSigner(),
    workflowId,
    { ...(state ? { state } : {}), assignee: assignee?.id ?? null, actor },
    assignee,
  );
  const { client } = await connect();
  try {
    const r = await assignTask(client, workflowId, input);
    console.log(
      `${r.state}: ${r.from ?? '(nobody)'} → ${r.to ?? '(nobody)'} (${r.changed ? r.act : 'unchanged'})`,
    );
    return 0;
  } catch (err) {
    if (err instanceof AssignmentRejected) {
      console.error(`refused (${err.code}): ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await client.connection.close();
  }
}
