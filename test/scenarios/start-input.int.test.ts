/**
 * Who may start a procedure, and with what (issue #11, item 3), on the real Temporal server and
 * records store: a start may set only the fields a definition declares `input: true` (or
 * `required`), only a holder of one of its `start.roles` starts it by hand, and `sensitive: true`
 * values never reach the audit records in clear. Each refusal is checked twice: by the client
 * (`startProcedure`, what the API and CLI use; nothing is started) and by the workflow itself, for
 * a Temporal client that starts it directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { WORKFLOW_TYPE, type ProcedureInput } from '../../workflows/api.ts';
import type { Actor, Json } from '../../workflows/core/ir.ts';
import { StartRefused, getSnapshot, instanceResult } from '../../worker/instances.ts';
import { maskText, maskKey } from '../../worker/sensitive/mask.ts';
import { eventually, type Harness } from '../integration/harness.ts';
import { recordHistory } from '../integration/record-history.ts';
import { definitionOf, send, startScenarioHarness } from './scenario.ts';

const rita = { id: 'rita', roles: ['application_reviewer'] };
const ada = { id: 'ada', roles: ['quality_administrator'] };
const gail = { id: 'gail', roles: ['general_affairs_head'] };

let h: Harness;
beforeAll(async () => {
  h = await startScenarioHarness('disclosure', 'external_information', 'results_dispatch', 'violation_case');
});
afterAll(async () => {
  await h?.close();
});

/** Start `procedure` straight through Temporal, past the client's checks: how it ends. */
async function startDirectly(procedure: string, context: Record<string, Json>, starter: Actor) {
  const def = definitionOf(h, procedure);
  const input: ProcedureInput = { ir: def.ir, hash: def.hash, context, starter };
  const workflowId = `${procedure}-direct-${Math.random().toString(36).slice(2, 10)}`;
  await h.client.workflow.start(WORKFLOW_TYPE, { taskQueue: h.config.taskQueue, workflowId, args: [input] });
  const failure = await instanceResult(h.client, workflowId).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const cause = (failure as WorkflowFailedError).cause as { type?: string; message: string };
  return { workflowId, type: cause.type, message: cause.message };
}

/** The audit records of an instance, as text. */
async function auditText(workflowId: string): Promise<string> {
  return JSON.stringify(await h.running.store.auditOf(workflowId));
}

describe('start input: only input fields, only start roles', () => {
  it('[4.2.3] a disclosure started with a General Manager approval preset is refused: nothing starts, no approval is logged', async () => {
    const preset = { client: 'acme', gm_approver: 'gm_boss', gm_approved: true };
    const refused = await h.start('disclosure', preset, rita).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(StartRefused);
    expect((refused as StartRefused).refusal).toMatchObject({
      code: 'NOT_INPUT_FIELD',
      fields: ['gm_approver', 'gm_approved'],
    });
    expect((refused as Error).message).toMatch(
      /"gm_approver", "gm_approved" are not input fields of disclosure/,
    );

    // A Temporal client that starts the workflow itself: the workflow refuses before its first record.
    const direct = await startDirectly('disclosure', preset, rita);
    expect(direct).toMatchObject({ type: 'InputError' });
    expect(direct.message).toMatch(/"gm_approver", "gm_approved" are not input fields/);
    expect(await h.running.store.recordsOf(direct.workflowId)).toEqual([]);
    expect(await auditText(direct.workflowId)).not.toContain('gm_boss');
  });

  it('[4.2.5] the source of outside information cannot be given at start: the $start record never holds it', async () => {
    const withSource = { client: 'acme', source_name: 'Mr Wang (complainant)' };
    await expect(h.start('external_information', withSource, ada)).rejects.toThrow(
      /"source_name" is not an input field of external_information/,
    );
    const direct = await startDirectly('external_information', withSource, ada);
    expect(direct.type).toBe('InputError');
    expect(await auditText(direct.workflowId)).not.toContain('Mr Wang');

    // The legitimate start: the $start record holds the client only.
    const id = await h.start('external_information', { client: 'acme' }, ada);
    const first = await eventually(async () =>
      (await h.running.store.auditOf(id)).find((r) => JSON.stringify(r.body).includes('"$start"')),
    );
    expect(JSON.stringify(first.body)).toContain('"data":{"client":"acme"}');
  });

  it('only a holder of one of start.roles starts it by hand', async () => {
    await expect(h.start('disclosure', { client: 'acme' }, gail)).rejects.toThrow(
      /gail may not start disclosure: starting it needs one of the roles application_reviewer/,
    );
    const direct = await startDirectly('disclosure', { client: 'acme' }, gail);
    expect(direct.type).toBe('InputError');
    expect(direct.message).toMatch(/gail may not start disclosure/);
  });
});

describe('sensitive fields', () => {
  it('[4.3.1] the collector’s ID number is masked with a keyed hash in the audit records; the instance keeps it', async () => {
    const id = await h.start('results_dispatch', { client: 'acme' }, rita);
    const documents = [{ kind: 'certificate', ref: 'CERT-2024-0042', copies: 1 }];
    const choice = {
      channel: 'client_pickup',
      requested_by: 'Li Wei',
      request_evidence: 'letter L-77',
      documents,
    };
    const seal = { contents_checked: true, addressee_checked: true, seal_ref: 'S-991' };
    const collector = {
      collector_name: 'Zhang San',
      id_type: 'resident_id_card',
      id_number: '110101199001011234',
      capacity: 'authorised_person',
      authorisation_ref: 'AUTH-3',
      identity_verified: true,
      authorisation_verified: true,
      seal_intact: true,
      receipt_ref: 'RCPT-8',
      collected_on: '2024-05-04',
    };
    await send(
      h,
      id,
      { type: 'RECORD_CHOICE', actor: rita, data: choice },
      { type: 'PREPARE', actor: ada, data: { paper_originals: true } },
      { type: 'SEAL', actor: rita, data: seal },
      { type: 'RECORD_PICKUP', actor: ada, data: collector },
    );
    const snap = await getSnapshot(h.client, id);
    expect(snap.context.collector_id_number).toBe('110101199001011234');
    await instanceResult(h.client, id);
    await recordHistory(h.client, id, 'start-input-sensitive-results-dispatch');
    const audit = await h.running.store.auditOf(id).then((rows) => {
      const text = JSON.stringify(rows);
      return rows.length >= 5 && text;
    });
    expect(audit).toBeTruthy();
    expect(audit).not.toContain('110101199001011234');
    // Equal values give equal tags: whoever holds the key can match a presented ID number.
    const tag = maskText(maskKey(), '110101199001011234');
    expect(tag).toMatch(/^\[masked:[0-9a-f]{16}\]$/);
    expect(audit).toContain(tag);
    expect(JSON.stringify(await h.running.store.recordsOf(id))).not.toContain('110101199001011234');
  });
});
