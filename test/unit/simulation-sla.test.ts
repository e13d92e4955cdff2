/**
 * The simulator plays SLA points (`ui/src/admin/simulation.ts`, `sla`): the reminders and
 * escalations of the states it is in are the ones the workflow arms (`core/sla.ts` `slaPoints`,
 * working days from the calendar it is given), and advancing to one fires it and every earlier
 * point not yet sent, in order, each as the workflow fires it (`applySlaPoint`): a `$sla` record,
 * who is told with which text, the escalation level. Shipped file_access 1.3.0 on the shipped
 * calendar: submitted on Friday 2026-02-13, the reminder is due one working day later (Saturday
 * 14 February, an adjusted working day) and the escalation two (Tuesday 24, after the holiday).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { compileProcedure } from '../../workflows/core/compile.ts';
import type { BusinessCalendar } from '../../workflows/core/calendar.ts';
import { addWorkingDays } from '../../workflows/core/calendar.ts';
import { loadCalendar } from '../../workflows/core/calendar-load.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import { simulatedSla, simulationLogic, SIMULATED_INSTANCE } from '../../ui/src/admin/simulation.ts';

const ROOT = path.join(import.meta.dirname, '../..');
const FILE = 'definitions/calendars/cn-2025-2027.json';
const cn = loadCalendar(readFileSync(path.join(ROOT, FILE), 'utf8'), FILE).calendar as BusinessCalendar;
const ir = validateProcedureText(
  readFileSync(path.join(ROOT, 'definitions/file_access.yaml'), 'utf8'),
  'file_access.yaml',
).ir!;
const proc = compileProcedure(ir, { calendar: cn });
const ann = { id: 'ann', roles: ['project_staff'] };
const gail = { id: 'gail', roles: ['general_affairs_head'] };
// Friday 13 February 2026, 10:00 in Beijing.
const submittedAt = Date.parse('2026-02-13T02:00:00Z');

function submitted() {
  const actor = createActor(simulationLogic).start();
  actor.send({ type: 'start', proc, input: { client: 'acme' }, actor: ann, now: submittedAt - 60_000 });
  actor.send({
    type: 'send',
    proc,
    input: {
      type: 'SUBMIT',
      actor: ann,
      data: { file_id: 'F-1', purpose: 'audit', access_kind: 'view', window_days: 1 },
    },
    now: submittedAt,
  });
  expect(actor.getSnapshot().context.log.at(-1)?.to).toEqual(['submitted']);
  return actor;
}

describe('the simulator plays SLA points', () => {
  it('lists the reminder and the escalation of the state, on working days of the calendar', () => {
    const sim = submitted().getSnapshot().context;
    const { points, level } = simulatedSla(proc, sim, cn);
    expect(level).toBe(0);
    expect(points.map((p) => [p.kind, p.index, p.to, p.level, p.sent])).toEqual([
      ['remind', 0, undefined, undefined, false],
      ['escalate', 0, 'quality_manager', 1, false],
    ]);
    expect(points[0]!.at).toBe(addWorkingDays(submittedAt, 1, cn).at);
    expect(points[1]!.at).toBe(addWorkingDays(submittedAt, 2, cn).at);
    // Saturday 14 February is worked (调休); the holiday runs 15–23 February.
    expect(new Date(points[0]!.at).toISOString().slice(0, 10)).toBe('2026-02-14');
    expect(new Date(points[1]!.at).toISOString().slice(0, 10)).toBe('2026-02-24');
  });

  it('advancing to the escalation fires the reminder first, then the escalation, as the engine does', () => {
    const actor = submitted();
    const { points } = simulatedSla(proc, actor.getSnapshot().context, cn);
    const escalation = points.find((p) => p.kind === 'escalate')!;
    actor.send({ type: 'sla', proc, key: escalation.key, now: escalation.at, calendar: cn, ifGone: 'gone' });
    const sim = actor.getSnapshot().context;
    expect(sim.refusal).toBeUndefined();
    const records = sim.log.filter((r) => r.event === '$sla');
    expect(records.map((r) => r.data)).toEqual([
      expect.objectContaining({
        kind: 'remind',
        index: 0,
        roles: ['general_affairs_head', 'quality_manager'],
      }),
      expect.objectContaining({ kind: 'escalate', index: 0, roles: ['quality_manager'], level: 1 }),
    ]);
    expect(records.map((r) => r.to)).toEqual([['submitted'], ['submitted']]);
    expect(sim.notices?.map((n) => [n.kind, n.to, n.level])).toEqual([
      ['remind', 'general_affairs_head', undefined],
      ['remind', 'quality_manager', undefined],
      ['escalate', 'quality_manager', 1],
    ]);
    const last = sim.notices!.at(-1)!;
    expect(last.message.en).toMatch(/^Escalation \(level 1\): .* simulation has been at “/);
    expect(last.message.en).toContain(SIMULATED_INSTANCE);
    expect(last.message.zh).toMatch(/^升级（第 1 级）/);
    const after = simulatedSla(proc, sim, cn);
    expect(after.level).toBe(1);
    expect(after.points.every((p) => p.sent)).toBe(true);

    // A point already sent is not sent again.
    actor.send({ type: 'sla', proc, key: escalation.key, now: escalation.at, calendar: cn, ifGone: 'gone' });
    expect(actor.getSnapshot().context.refusal).toBe('gone');
    expect(actor.getSnapshot().context.log).toHaveLength(sim.log.length);
  });

  it('a decision leaves the state: its points are gone, the notices sent stay', () => {
    const actor = submitted();
    const remind = simulatedSla(proc, actor.getSnapshot().context, cn).points[0]!;
    actor.send({ type: 'sla', proc, key: remind.key, now: remind.at, calendar: cn, ifGone: 'gone' });
    expect(actor.getSnapshot().context.notices).toHaveLength(2);
    actor.send({
      type: 'send',
      proc,
      input: { type: 'APPROVE', actor: gail, data: {} },
      now: remind.at + 1,
    });
    const sim = actor.getSnapshot().context;
    expect(sim.log.at(-1)?.to).toEqual(['approved']);
    expect(sim.notices).toHaveLength(2);
    expect(simulatedSla(proc, sim, cn)).toEqual({ points: [], level: 0 });
    const escalationKey = remind.key.replace('/remind/0', '/escalate/0');
    actor.send({ type: 'sla', proc, key: escalationKey, now: remind.at + 2, calendar: cn, ifGone: 'gone' });
    expect(actor.getSnapshot().context.refusal).toBe('gone');
    expect(actor.getSnapshot().context.log).toHaveLength(sim.log.length);
  });
});
