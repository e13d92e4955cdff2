/**
 * An effect's outcome sent back into its own instance as the engine (a register lookup's, a
 * deployment's): a signed event, sent once per effect — the update id is the effect's place
 * (`workflowId/seq/index`), so a retried commit finds it taken. An instance that has moved on
 * (finished, or no longer in the state that takes it) means a retry after a lost answer: done.
 */
import type { Actor, EventInput } from '../../workflows/core/ir.ts';
import type { ActorSigner } from '../actor-keys.ts';
import { EventRejected, sendEvent, signedEvent } from '../instances.ts';
import type { EffectSite } from './effects.ts';

export async function reportToInstance(
  site: EffectSite,
  outcome: Omit<EventInput, 'actor'>,
  actor: Actor,
  signer: ActorSigner,
): Promise<void> {
  const { commit, index, deps } = site;
  const event = signedEvent(signer, commit.workflowId, { ...outcome, actor });
  try {
    await sendEvent(
      deps.client,
      commit.workflowId,
      event,
      `${commit.workflowId}/${commit.record.seq}/${index}`,
    );
  } catch (err) {
    if (err instanceof EventRejected && (err.code === 'INSTANCE_FINISHED' || err.code === 'CANNOT_TAKE'))
      return;
    throw err;
  }
}
