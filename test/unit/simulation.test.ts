/**
 * The admin simulator's actor (`ui/src/admin/simulation.ts`): XState `fromTransition` over the
 * engine's pure interpreter — the same refusals and steps a worker makes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { compileProcedure } from '../../workflows/core/compile.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import { simulationLogic } from '../../ui/src/admin/simulation.ts';

const yaml = readFileSync(path.join(import.meta.dirname, '../fixtures/engine/review.yaml'), 'utf8');
const ir = validateProcedureText(yaml, 'review.yaml').ir!;
const proc = compileProcedure(ir);
const staff = { id: 'alice', roles: ['project_staff'] };
const manager = { id: 'quinn', roles: ['quality_manager'] };

describe('simulator actor', () => {
  it('starts, refuses with the engine’s code, steps, and fires a timer', () => {
    const actor = createActor(simulationLogic).start();
    const now = Date.now();
    actor.send({ type: 'start', proc, input: { client: 'acme' }, actor: staff, now });
    expect(actor.getSnapshot().context.log.map((r) => r.to)).toEqual([['draft']]);

    actor.send({ type: 'send', proc, input: { type: 'SUBMIT', data: { purpose: 'x' }, actor: staff }, now });
    expect(actor.getSnapshot().context.refusal).toMatch(/^INVALID_DATA: /);
    actor.send({
      type: 'send',
      proc,
      input: { type: 'SUBMIT', data: { purpose: 'audit' }, actor: manager },
      now,
    });
    expect(actor.getSnapshot().context.refusal).toMatch(/^ROLE_NOT_ALLOWED: /);
    expect(actor.getSnapshot().context.log).toHaveLength(1);
    // In the Chinese UI, the engine's explanation in Chinese.
    actor.send({
      type: 'send',
      proc,
      input: { type: 'SUBMIT', data: { purpose: 'audit' }, actor: manager },
      now,
      lang: 'zh',
    });
    expect(actor.getSnapshot().context.refusal).toMatch(
      /^ROLE_NOT_ALLOWED: quinn（quality_manager）不能在状态 draft 执行 SUBMIT/,
    );

    actor.send({
      type: 'send',
      proc,
      input: { type: 'SUBMIT', data: { purpose: 'audit' }, actor: staff },
      now,
    });
    const sim = actor.getSnapshot().context;
    expect(sim.refusal).toBeUndefined();
    expect(sim.log.at(-1)?.to).toEqual(['submitted']);
    const timer = sim.state?.timers[0];
    expect(timer).toBeDefined();
    actor.send({ type: 'fire', proc, timerId: timer!.id, now: now + 1, ifNothing: 'nothing' });
    expect(actor.getSnapshot().context.log.length).toBe(3);
  });

  it('keeps a start error instead of throwing', () => {
    const actor = createActor(simulationLogic).start();
    actor.send({ type: 'start', proc, input: {}, actor: staff, now: 0 });
    expect(actor.getSnapshot().context.error).toMatch(/client/);
    expect(actor.getSnapshot().context.state).toBeUndefined();
  });
});
