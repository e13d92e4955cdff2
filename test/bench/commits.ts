/**
 * The transition commit the records-store benchmarks write (`group-commit.ts`,
 * `audit-log-growth.ts`): an approval of `bench-review` with `effects` named-record effects.
 */
import type { TransitionCommit } from '../../workflows/api.ts';

export function benchCommit(workflowId: string, seq: number, effects = 0): TransitionCommit {
  return {
    workflowId,
    procedure: 'bench-review',
    version: '1.0.0',
    hash: 'b'.repeat(64),
    client: 'acme',
    record: {
      seq,
      at: new Date().toISOString(),
      event: 'APPROVE',
      actor: { id: 'reviewer', roles: ['reviewer'] },
      from: ['review'],
      to: ['approved'],
      clauses: ['7.1'],
      data: { comment: 'fine', n: seq },
    },
    effects: Array.from({ length: effects }, (_, i) => ({
      kind: 'record' as const,
      record: 'review_log',
      fields: { i, by: 'reviewer' },
    })),
  };
}
