/**
 * The editor shows a call (`call:`): the diagram draws one edge per outcome of the called
 * procedure (`ui/src/diagram/call-edges.ts`), and the simulator plays an outcome as the engine
 * delivers it (`ui/src/admin/simulation.ts`, `outcome`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileProcedure, type CompiledProcedure } from '../../workflows/core/compile.ts';
import type { Json, ProcedureIR } from '../../workflows/core/ir.ts';
import type { CallResult } from '../../workflows/core/call.ts';
import type { TransitionRecord } from '../../workflows/core/runtime.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';

/** What this test reads of the UI modules; imported by paths the root tsconfig does not follow. */
interface Laid {
  edges: { kind: string; from: string; to: string; label: string; points: unknown[] }[];
}
const LAYOUT = '../../ui/src/diagram/layout.ts';
const SIMULATION = '../../ui/src/admin/simulation.ts';
const { layoutProcedure } = (await import(LAYOUT)) as {
  layoutProcedure: (ir: ProcedureIR, texts: unknown, direction: 'RIGHT' | 'DOWN') => Promise<Laid>;
};
interface Sim {
  state?: { value: unknown; context: Record<string, Json> };
  log: TransitionRecord[];
}
const { simulate } = (await import(SIMULATION)) as {
  simulate: (sim: Sim, ev: Record<string, unknown>) => Sim;
};

const file = 'test/fixtures/call/loan_application.yaml';
const ir = validateProcedureText(readFileSync(file, 'utf8'), file).ir!;

describe('the editor shows a call', () => {
  it('the diagram draws an edge per outcome of the called procedure', async () => {
    const texts = {
      text: (t?: { en?: string }) => t?.en ?? '',
      after: (d: string) => `after ${d}`,
      done: 'when done',
      always: 'automatically',
      call: { failed: 'failed', cancelled: 'cancelled' },
    };
    const laid = await layoutProcedure(ir, texts, 'RIGHT');
    const calls = laid.edges.filter((e) => e.kind === 'call');
    expect(calls.map((e) => [e.from, e.to, e.label])).toEqual([
      ['checking', 'offer', '↩ approved'],
      ['checking', 'declined', '↩ rejected'],
      ['checking', 'manual_review', '↩ failed'],
      ['checking', 'manual_review', '↩ cancelled'],
    ]);
    for (const e of calls) expect(e.points.length).toBeGreaterThan(1);
  });

  it('the simulator plays an outcome of the called instance', () => {
    const proc: CompiledProcedure = compileProcedure(ir);
    const actor = { id: 'olga', roles: ['officer'] };
    let sim = simulate(
      { log: [] },
      { type: 'start', proc, input: { applicant: 'a', amount: 5 }, actor, now: 1 },
    );
    const result: CallResult = { kind: 'done', state: 'approved', context: {} };
    sim = simulate(sim, { type: 'outcome', proc, path: 'checking', result, now: 2 });
    expect(sim.state?.value).toBe('offer');
    expect(sim.log.at(-1)).toMatchObject({ event: '$call/checking/done/approved', to: ['offer'] });
    expect(sim.state?.context.outcome).toBe('offered');
  });
});
