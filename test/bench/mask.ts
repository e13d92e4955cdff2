/**
 * Cost of masking sensitive fields in one commit (`worker/sensitive/mask.ts`): the pickup commit of
 * results_dispatch (one sensitive value, a record and a notice). `npx tsx test/bench/mask.ts`.
 */
import type { TransitionCommit } from '../../workflows/api.ts';
import { maskedCommit } from '../../worker/sensitive/mask.ts';
const key = Buffer.alloc(32, 1);
const commit = {
  workflowId: 'w',
  procedure: 'results_dispatch',
  version: '1.1.0',
  hash: 'h',
  record: {
    seq: 7,
    at: '2026-12-06T00:00:00Z',
    event: 'RECORD_PICKUP',
    actor: { id: 'ada', roles: ['quality_administrator'] },
    from: ['awaiting_pickup'],
    to: ['collected'],
    clauses: ['4.3.1'],
    data: {
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
    },
  },
  effects: [
    {
      kind: 'record',
      record: 'dispatch_log',
      fields: { client: 'acme', event: 'collected', channel: 'client_pickup', collector: 'Zhang San' },
    },
    { kind: 'notify', to: ['client'], text: { zh: '已领取', en: 'collected' } },
  ],
  sensitive: ['110101199001011234'],
} as unknown as TransitionCommit;
for (let i = 0; i < 2000; i++) maskedCommit(commit, key);
const n = 20000;
const t = performance.now();
for (let i = 0; i < n; i++) maskedCommit(commit, key);
console.log(`${(((performance.now() - t) * 1000) / n).toFixed(1)} µs per commit`);
