/**
 * Scenarios of client information from other sources (`definitions/external_information.yaml`),
 * clause 4.2.5 (with 3.3.1, 3.2.1, and 4.6.3 for a leak), on the real Temporal server. The timer
 * scenario runs a copy of the shipped definition whose durations only are scaled to seconds
 * (`shortenTimers`): structure, guards and actions are the shipped ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSnapshot, instanceResult } from '../../worker/instances.ts';
import type { Harness } from '../integration/harness.ts';
import {
  definitionOf,
  expectRefused,
  linkedInstance,
  notified,
  recordsNamed,
  send,
  shortenTimers,
  startDefinition,
  startScenarioHarness,
  type ShortenedDefinition,
} from './scenario.ts';

const ada = { id: 'ada', roles: ['quality_administrator'] };
const rita = { id: 'rita', roles: ['application_reviewer'] };
const quinn = { id: 'quinn', roles: ['quality_manager'] };
const pat = { id: 'pat', roles: ['project_staff'] };

const fromRegulator = {
  source_kind: 'regulator',
  mask_source: false,
  source_name: 'Provincial Market Regulation Bureau',
  channel: 'official_notice',
  received_on: '2024-03-02',
  subject: 'product recall notice',
  summary: 'recall of batch 2024-02 for overheating',
  document_ref: 'MRB-2024-11',
};
const fromComplainant = {
  source_kind: 'complainant',
  mask_source: true,
  source_register_ref: 'SRC-0007',
  channel: 'letter',
  received_on: '2024-03-05',
  subject: 'complaint about labelling',
  summary: 'labels omit the certification mark number',
};

let h: Harness;
let short: ShortenedDefinition;
beforeAll(async () => {
  h = await startScenarioHarness('external_information', 'violation_case');
  short = shortenTimers(definitionOf(h, 'external_information'));
});
afterAll(async () => {
  await h?.close();
});

describe('external_information — client information from other sources (4.2.5)', () => {
  it('[4.2.5][3.3.1][3.5.2] registered as confidential, assessed by the Quality Manager, every use logged, archived still confidential', async () => {
    const id = await h.start('external_information', { client: 'acme' }, ada);
    let r = await send(h, id, { type: 'REGISTER', actor: ada, data: fromRegulator });
    expect(r.leaves).toEqual(['register.assessing']);
    await notified(h, id, 'quality_manager', 'registered as confidential and awaits assessment');
    r = await send(h, id, {
      type: 'ASSESS',
      actor: quinn,
      data: { use: 'surveillance', note: 'check at the next surveillance audit' },
    });
    expect(r.leaves).toEqual(['register.in_use']);
    await send(
      h,
      id,
      {
        type: 'RECORD_USE',
        actor: pat,
        data: { purpose: 'surveillance sampling plan', activity_ref: 'SV-2024-3' },
      },
      {
        type: 'RECORD_USE',
        actor: rita,
        data: { purpose: 'certification review', activity_ref: 'CR-2024-9' },
      },
    );
    expect((await getSnapshot(h.client, id)).context.classification).toBe('confidential');
    expect(await send(h, id, { type: 'CLOSE', actor: quinn, data: { outcome: 'audit done' } })).toMatchObject(
      {
        state: 'archived',
        done: true,
      },
    );

    const final = await instanceResult(h.client, id);
    expect(final.context).toMatchObject({
      classification: 'confidential',
      source_masked: false,
      source_name: 'Provincial Market Regulation Bureau',
      registered_by: 'ada',
      assessed_by: 'quinn',
      use: 'surveillance',
    });
    const register = await recordsNamed(h, id, 'confidential_register', 3);
    expect(register.map((r) => r.fields.classification)).toEqual([
      'confidential',
      'confidential',
      'confidential',
    ]);
    const uses = await recordsNamed(h, id, 'information_use_log', 2);
    expect(uses.map((u) => [u.fields.used_by, u.fields.classification])).toEqual([
      ['pat', 'confidential'],
      ['rita', 'confidential'],
    ]);
  });

  it('[4.2.5] a masked source: only the restricted register reference is kept, never the identity', async () => {
    const id = await h.start('external_information', { client: 'acme' }, ada);
    await expectRefused(
      h,
      id,
      { type: 'REGISTER', actor: ada, data: { ...fromComplainant, source_name: 'Mr Wang (complainant)' } },
      'INVALID_DATA',
      '/source_name',
    );
    const { source_register_ref: _ref, ...noRef } = fromComplainant;
    await expectRefused(
      h,
      id,
      { type: 'REGISTER', actor: ada, data: noRef },
      'INVALID_DATA',
      'missing required field "source_register_ref"',
    );
    await send(h, id, { type: 'REGISTER', actor: ada, data: fromComplainant });
    const snap = await getSnapshot(h.client, id);
    expect(snap.context).toMatchObject({
      classification: 'confidential',
      source_masked: true,
      source_name: '',
      source_register_ref: 'SRC-0007',
    });
    const [row] = await recordsNamed(h, id, 'confidential_register');
    expect(row!.fields).toMatchObject({ source: 'masked: SRC-0007', classification: 'confidential' });
  });

  it('[4.2.5] can never be reclassified as public', async () => {
    const id = await h.start('external_information', { client: 'acme' }, ada);
    await expectRefused(
      h,
      id,
      { type: 'REGISTER', actor: ada, data: { ...fromRegulator, classification: 'public' } },
      'INVALID_DATA',
      'unknown field "classification"',
    );
    await send(h, id, { type: 'REGISTER', actor: ada, data: fromRegulator });
    await expectRefused(
      h,
      id,
      { type: 'RECLASSIFY', actor: quinn, data: { classification: 'public' } },
      'UNKNOWN_EVENT',
      'external_information has no event RECLASSIFY',
    );
    // Not even at the start: the classification is no input field (and admits only "confidential").
    await expect(
      startDefinition(
        h,
        definitionOf(h, 'external_information'),
        { client: 'acme', classification: 'public' },
        ada,
      ),
    ).rejects.toThrow(/"classification" is not an input field of external_information/);
  });

  it('[4.2.5][3.2.1] only the Quality Manager assesses, and nothing is used before the assessment', async () => {
    const id = await h.start('external_information', { client: 'acme' }, ada);
    await send(h, id, { type: 'REGISTER', actor: rita, data: fromRegulator });
    await expectRefused(
      h,
      id,
      { type: 'RECORD_USE', actor: pat, data: { purpose: 'x', activity_ref: 'SV-1' } },
      'CANNOT_TAKE',
      'RECORD_USE cannot be sent in state register.assessing',
    );
    await expectRefused(
      h,
      id,
      { type: 'ASSESS', actor: rita, data: { use: 'surveillance', note: 'x' } },
      'ROLE_NOT_ALLOWED',
      'allowed roles: quality_manager',
    );
    await expectRefused(
      h,
      id,
      { type: 'ASSESS', actor: quinn, data: { use: 'publish', note: 'x' } },
      'INVALID_DATA',
      '/use: must be one of "certification_decision", "surveillance", "complaint_handling", "no_further_use"',
    );
    const r = await send(h, id, {
      type: 'ASSESS',
      actor: quinn,
      data: { use: 'no_further_use', note: 'not relevant' },
    });
    expect(r).toMatchObject({ state: 'archived', done: true });
    expect((await instanceResult(h.client, id)).context.classification).toBe('confidential');
  });

  it('[4.2.5][4.6.3] a leak of the information opens a violation case for the client', async () => {
    const id = await h.start('external_information', { client: 'globex' }, ada);
    await send(
      h,
      id,
      { type: 'REGISTER', actor: ada, data: fromComplainant },
      { type: 'ASSESS', actor: quinn, data: { use: 'complaint_handling', note: 'forward to complaints' } },
    );
    const r = await send(h, id, {
      type: 'REPORT_LEAK',
      actor: pat,
      data: { details: 'the complaint letter was forwarded to the client by mistake' },
    });
    expect(r.leaves).toEqual(['register.in_use']);
    const { child } = await linkedInstance(h, id);
    expect(child).toMatchObject({
      procedure: 'violation_case',
      leaves: ['reported'],
      context: {
        client: 'globex',
        source_workflow: 'external_information',
        description: 'the complaint letter was forwarded to the client by mistake',
      },
    });
    await notified(h, id, 'general_manager', 'Confidential client information from another source leaked');
  });

  it('[4.2.5][3.2.1] an assessment left undone is chased (durations scaled)', async () => {
    const id = await startDefinition(h, short, { client: 'acme' }, ada);
    await send(h, id, { type: 'REGISTER', actor: ada, data: fromRegulator });
    await notified(h, id, 'quality_manager', 'has awaited assessment for more than 5 days');
    const snap = await getSnapshot(h.client, id);
    expect(snap.leaves).toEqual(['register.assessing']);
    // Told by the state's sla escalation (due P5D, scaled), not a hand-written timer.
    expect(snap.log.at(-1)).toMatchObject({
      event: '$sla',
      actor: { id: 'sla' },
      from: ['register.assessing'],
      to: ['register.assessing'],
      data: { kind: 'escalate', state: 'register.assessing', roles: ['quality_manager'], level: 1 },
    });
  });
});
