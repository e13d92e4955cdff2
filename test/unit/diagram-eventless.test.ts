/**
 * The editor's diagram draws `on_done` and `always` transitions (`ui/src/diagram/layout.ts`): an
 * edge from the joined parallel state to where it continues, and the routing edges of an
 * eventless state, each with its own kind (drawn apart from events and timers).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ProcedureIR } from '../../workflows/core/ir.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';

/** What this test reads of `ui/src/diagram/layout.ts`; imported by a path the root tsconfig does not
 * follow (the UI's tsconfig types its elkjs import, the root one cannot). */
interface Laid {
  edges: { kind: string; from: string; to: string; label: string; points: unknown[] }[];
}
const LAYOUT = '../../ui/src/diagram/layout.ts';
const { layoutProcedure } = (await import(LAYOUT)) as {
  layoutProcedure: (ir: ProcedureIR, texts: unknown, direction: 'RIGHT' | 'DOWN') => Promise<Laid>;
};

const texts = {
  text: (t?: { en?: string }) => t?.en ?? '',
  after: (d: string) => `after ${d}`,
  done: 'when done',
  always: 'automatically',
};
const irOf = (file: string) => validateProcedureText(readFileSync(file, 'utf8'), file).ir!;

describe('diagram of on_done and always', () => {
  it('draws the join of a parallel review and the routing of an eventless state', async () => {
    const review = await layoutProcedure(
      irOf('test/fixtures/parallel-review/purchase_review.yaml'),
      texts,
      'RIGHT',
    );
    expect(review.edges.filter((e) => e.kind === 'done').map((e) => [e.from, e.to, e.label])).toEqual([
      ['review', 'ordering', 'when done'],
    ]);
    const routing = await layoutProcedure(
      irOf('test/fixtures/eventless/expense_routing.yaml'),
      texts,
      'RIGHT',
    );
    expect(routing.edges.filter((e) => e.kind === 'eventless').map((e) => [e.from, e.to, e.label])).toEqual([
      ['routing', 'director_review', 'automatically ◇'],
      ['routing', 'manager_review', 'automatically ◇'],
      ['routing', 'approved', 'automatically'],
    ]);
    expect(routing.edges.find((e) => e.kind === 'eventless')?.points.length).toBeGreaterThan(1);
  });
});
