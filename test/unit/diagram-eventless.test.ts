/**
 * The editor's diagram draws `on_done` and `always` transitions (`ui/src/diagram/layout.ts`): an
 * edge from the joined parallel state to where it continues, and the routing edges of an
 * eventless state, each with its own kind (drawn apart from events and timers).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { layoutProcedure } from '../../ui/src/diagram/layout.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';

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
