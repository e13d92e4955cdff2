/**
 * `custodia start | send | status` — drive one instance through any Temporal cluster. `send`
 * acts as a directory user (records store): it must exist, be enabled and hold the roles; the
 * event carries an assertion signed with the actor key, which the engine verifies.
 */
import { DEFINITION_CHANGE, PROPOSED_THROUGH_DEPLOY } from '../proposals.ts';
import os from 'node:os';
import { formatDiagnostic } from '../../workflows/core/diagnostics.ts';
import { loadDefinitions } from '../definitions.ts';
import type { Actor, Json } from '../../workflows/core/ir.ts';
import { actorSigner } from '../actor-keys.ts';
import {
  EventRejected,
  getSnapshot,
  parseActor,
  sendEvent,
  signedEvent,
  startProcedure,
} from '../instances.ts';
import { definitionDirs } from '../process.ts';
import { withStore } from './audit.ts';
import { ApiProblem } from '../api/http.ts';
import { resolveAttachments } from '../attachments/service.ts';
import { connect, jsonObjectOption, parseOptions, UsageError } from './options.ts';
import { directoryActor, NotADirectoryActor } from './token.ts';

export async function startCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    input: { type: 'string' },
    as: { type: 'string' },
    id: { type: 'string' },
  });
  const [procedureId, ...extra] = positionals;
  if (!procedureId || extra.length) throw new UsageError('start needs exactly one <procedureId>');
  if (procedureId === DEFINITION_CHANGE) throw new Error(PROPOSED_THROUGH_DEPLOY);
  // The draft pipeline over the definition files, proving only the procedure being started
  // (all of them take seconds).
  const set = loadDefinitions(definitionDirs(), process.cwd(), { verify: (id) => id === procedureId });
  const def = set.definitions.get(procedureId);
  if (!def) {
    const broken = set.diagnostics.filter((d) => d.severity === 'error');
    const known = [...set.definitions.keys()].join(', ') || 'none';
    const why = broken.length ? `\n${broken.map(formatDiagnostic).join('\n')}` : '';
    throw new Error(`no valid definition "${procedureId}" (valid: ${known})${why}`);
  }
  const starter = parseActor(typeof values.as === 'string' ? values.as : `${os.userInfo().username}:`);
  const context = jsonObjectOption('input', values.input) ?? {};
  const { config, client } = await connect();
  try {
    const workflowId = await startProcedure(client, def, {
      context,
      starter,
      taskQueue: config.taskQueue,
      ...(typeof values.id === 'string' ? { workflowId: values.id } : {}),
    });
    console.log(workflowId);
    return 0;
  } finally {
    await client.connection.close();
  }
}

export async function sendCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { data: { type: 'string' }, as: { type: 'string' } });
  const [workflowId, type, ...extra] = positionals;
  if (!workflowId || !type || extra.length) throw new UsageError('send needs <workflowId> <EVENT>');
  if (typeof values.as !== 'string') throw new UsageError('send needs --as USER:ROLE[,ROLE]');
  const data = jsonObjectOption('data', values.data);
  // Act only as a directory user who holds the roles; the engine verifies the signature.
  let actor: Actor;
  // Files named in data.attachments ([{sha256, kind?}]) become signed references, as in the API.
  let eventData: Record<string, Json> | undefined = data;
  try {
    const claimed = parseActor(values.as);
    actor = await withStore(async (store) => {
      const a = await directoryActor(store, claimed);
      eventData = await resolveAttachments(store, actorSigner(), workflowId, data);
      return a;
    });
  } catch (err) {
    // (The embedded store is a server every process shares: a running `npm start` does not keep
    // this command out of the directory, so there is no second way to check it.)
    if (err instanceof ApiProblem) {
      console.error(`refused (${err.code}): ${err.message}`);
      return 1;
    }
    if (err instanceof NotADirectoryActor) {
      console.error(`refused: ${err.message}`);
      return 1;
    }
    throw err;
  }
  const event = signedEvent(actorSigner(), workflowId, {
    type,
    actor,
    ...(eventData ? { data: eventData } : {}),
  });
  const { client } = await connect();
  try {
    const result = await sendEvent(client, workflowId, event);
    console.log(
      `${result.leaves.join(', ')}${result.done ? ' (finished)' : ''}` +
        (result.available.length ? `\navailable to ${actor.id}: ${result.available.join(', ')}` : ''),
    );
    return 0;
  } catch (err) {
    if (err instanceof EventRejected) {
      console.error(`refused (${err.code}): ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await client.connection.close();
  }
}

export async function statusCommand(args: string[]): Promise<number> {
  const { positionals } = parseOptions(args, {});
  const [workflowId, ...extra] = positionals;
  if (!workflowId || extra.length) throw new UsageError('status needs <workflowId>');
  const { client } = await connect();
  try {
    console.log(JSON.stringify(await getSnapshot(client, workflowId), null, 2));
    return 0;
  } finally {
    await client.connection.close();
  }
}
