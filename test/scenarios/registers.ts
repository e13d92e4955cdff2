/**
 * Register helpers of the scenario tests: file a client's Non-Disclosure Agreement
 * (`client_agreement`) or Certification Contract (`certification_contract`) through the shipped
 * procedures — registered by one person, checked and filed by another — so the register row the
 * `lookup` of `sample_custody` / `site_assignment` reads exists; and send events that start a
 * register lookup and wait for its outcome (the engine's event), as a person would see it.
 */
import { getSnapshot } from '../../worker/instances.ts';
import type { ProcedureSnapshot } from '../../workflows/api.ts';
import type { EventInput, Json } from '../../workflows/core/ir.ts';
import { eventually, type Harness } from '../integration/harness.ts';
import { recordsNamed, send as sendNow } from './scenario.ts';

const rita = { id: 'rita', roles: ['application_reviewer'] };
const ada = { id: 'ada', roles: ['quality_administrator'] };

/** States in which an instance waits for a register lookup's outcome. */
const LOOKUP_STATES = ['nda_check', 'contract_check'];

/** File an NDA for `client` (valid 2020–2099 unless told); the client_agreement instance's id. */
export async function fileNda(
  h: Harness,
  client: string,
  nda: { reference?: string; valid_from?: string; valid_until?: string } = {},
): Promise<string> {
  const id = await h.start('client_agreement', { client }, rita);
  await sendNow(
    h,
    id,
    {
      type: 'REGISTER',
      actor: rita,
      data: {
        reference: nda.reference ?? `NDA-${client}`,
        parties: ['Custodia Certification Ltd', client],
        signed_for_client: 'Li Wei',
        signed_on: nda.valid_from ?? '2020-01-01',
        valid_from: nda.valid_from ?? '2020-01-01',
        valid_until: nda.valid_until ?? '2099-12-31',
      },
    },
    { type: 'CONFIRM', actor: ada, data: { original_checked: true } },
  );
  await recordsNamed(h, id, 'nda_register');
  return id;
}

/** File a Certification Contract for `client` with this scope (valid 2020–2099 unless told). */
export async function fileContract(
  h: Harness,
  client: string,
  contract: { reference: string; scope: string[]; valid_from?: string; valid_until?: string },
): Promise<string> {
  const id = await h.start('certification_contract', { client }, rita);
  await sendNow(
    h,
    id,
    {
      type: 'REGISTER',
      actor: rita,
      data: {
        reference: contract.reference,
        scope: contract.scope,
        scope_description: `products of ${client}, main factory`,
        signed_on: contract.valid_from ?? '2020-01-01',
        valid_from: contract.valid_from ?? '2020-01-01',
        valid_until: contract.valid_until ?? '2099-12-31',
      },
    },
    { type: 'CONFIRM', actor: ada, data: { original_checked: true } },
  );
  await recordsNamed(h, id, 'contract_register');
  return id;
}

/**
 * Send events in order; after one that starts a register lookup, wait for the engine's outcome
 * before the next. The last answer: the event's result, or the snapshot once the lookup settled.
 */
export async function send(
  h: Harness,
  workflowId: string,
  ...events: EventInput[]
): Promise<{ state: Json | ProcedureSnapshot['state']; leaves: string[] }> {
  let last: { state: Json | ProcedureSnapshot['state']; leaves: string[] } | undefined;
  for (const e of events) {
    last = await sendNow(h, workflowId, e);
    if (last.leaves.some((l) => LOOKUP_STATES.includes(l))) last = await settled(h, workflowId);
  }
  if (!last) throw new Error('send: no events');
  return last;
}

/** The snapshot once the instance is no longer waiting for a register lookup. */
export function settled(h: Harness, workflowId: string, timeoutMs = 15_000): Promise<ProcedureSnapshot> {
  return eventually(async () => {
    const snap = await getSnapshot(h.client, workflowId);
    return !snap.leaves.some((l) => LOOKUP_STATES.includes(l)) && snap;
  }, timeoutMs);
}
