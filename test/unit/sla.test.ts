/**
 * `sla:` per state (`core/sla.ts`): the shorthand and the object form load, misuse is refused with
 * its position (unknown role, chain out of order, reminder after the due time, nobody to remind),
 * reminders and escalations are scheduled from entry in calendar time and in working days of the
 * shipped calendar (Spring Festival 2026, National Day, a year boundary), `$sla` records notify the
 * awaited roles or the escalation's role, the level rises, and the verifier's `deadline` counts an
 * escalation. Also the shipped file_access 1.3.0.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileProcedure } from '../../workflows/core/compile.ts';
import type { BusinessCalendar } from '../../workflows/core/calendar.ts';
import { loadCalendar } from '../../workflows/core/calendar-load.ts';
import { describeInstance, startInstance, applyEvent } from '../../workflows/core/runtime.ts';
import {
  applySlaPoint,
  escalationLevel,
  nextSlaPoint,
  sentSlaKeys,
  slaDueAt,
  slaPoints,
  usesWorkingDays,
} from '../../workflows/core/sla.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import { verifyProcedure } from '../../workflows/core/verify.ts';
import { DIAGNOSTIC_TEXT } from '../../workflows/core/diagnostic-texts.ts';

const FILE = 'definitions/calendars/cn-2025-2027.json';
const cn = loadCalendar(readFileSync(FILE, 'utf8'), FILE).calendar as BusinessCalendar;
const cst = (local: string): number => Date.parse(`${local}+08:00`);
const local = (ms: number): string => new Date(ms + 8 * 3600_000).toISOString().slice(0, 16);

const T = '{ zh: 甲, en: A }';
const def = (sla: string, extra = '') => `id: t
version: 1.0.0
title: { zh: 申请, en: Request }
description: ${T}
roles: { staff: ${T}, approver: ${T}, boss: ${T} }
events:
  APPROVE: { title: ${T} }
initial: waiting
states:
  waiting:
    title: { zh: 待批准, en: Awaiting approval }
    sla: ${sla}
    on:
      APPROVE: { target: done, roles: approver }
${extra}  done: { title: ${T}, type: final }
`;

function load(sla: string, extra = '') {
  return validateProcedureText(def(sla, extra), 't.yaml');
}

describe('sla in the definition language', () => {
  it('loads the shorthand and the object form; only the object form has a plan', () => {
    const short = load('P2D');
    expect(short.diagnostics).toEqual([]);
    expect(short.ir!.root.states.waiting!.sla).toBe('P2D');
    expect(short.ir!.root.states.waiting!.slaPlan).toBeUndefined();
    const full = load(
      '{ due: P2WD, remind: [PT4H], escalate: [{ after: P1D, to: approver }, { after: P3D, to: boss }] }',
    );
    expect(full.diagnostics).toEqual([]);
    const s = full.ir!.root.states.waiting!;
    expect(s.sla).toBe('P2WD');
    expect(s.slaPlan).toEqual({
      remind: ['PT4H'],
      escalate: [
        { after: 'P1D', to: 'approver' },
        { after: 'P3D', to: 'boss' },
      ],
    });
    expect(usesWorkingDays(full.ir!.root)).toBe(true);
    expect(usesWorkingDays(short.ir!.root)).toBe(false);
  });

  it('refuses misuse with its position and zh/en texts', () => {
    // [sla, code, the text the diagnostic points at (its last occurrence)]: all on line 12, after `    sla: `.
    const cases: [string, string, string][] = [
      ['{ escalate: [{ after: P1D, to: quality_manager }] }', 'PROC_UNKNOWN_ROLE', 'quality_manager'],
      ['{ escalate: [{ after: P3D, to: boss }, { after: P1D, to: approver }] }', 'PROC_SLA_ORDER', 'P1D'],
      ['{ escalate: [{ after: P2WD, to: boss }, { after: P2D, to: approver }] }', 'PROC_SLA_ORDER', 'P2D'],
      ['{ due: P1D, remind: [P2D] }', 'PROC_SLA_ORDER', 'P2D'],
      ['{ due: P2WD, remind: [P2WD] }', 'PROC_SLA_ORDER', 'P2WD'],
    ];
    for (const [sla, code, at] of cases) {
      const { diagnostics } = load(sla);
      const column = '    sla: '.length + sla.lastIndexOf(at) + 1;
      expect(
        diagnostics.map((d) => [d.code, d.line, d.column]),
        sla,
      ).toContainEqual([code, 12, column]);
      expect(DIAGNOSTIC_TEXT[code as keyof typeof DIAGNOSTIC_TEXT].zh).toBeTruthy();
    }
    expect(load('{ due: P2WX }').diagnostics.map((d) => [d.code, d.line])).toContainEqual([
      'PROC_BAD_DURATION',
      12,
    ]);
    // Calendar time before working days is fine (cannot be out of order), and the reverse is not.
    expect(
      load('{ remind: [P1D], escalate: [{ after: P1WD, to: boss }, { after: P3D, to: boss }] }').diagnostics,
    ).toEqual([]);
  });

  it('refuses reminders in a state nobody acts in', () => {
    const text = def('P1D').replace(
      '  done: { title: ${T}, type: final }'.replace('${T}', T),
      `  done: { title: ${T}, type: final }\n`,
    );
    const { diagnostics } = validateProcedureText(
      text
        .replace('initial: waiting', 'initial: idle')
        .replace(
          'states:\n',
          `states:\n  idle:\n    title: ${T}\n    sla: { remind: [PT1H] }\n    after: [{ delay: PT2H, target: waiting }]\n`,
        ),
      't.yaml',
    );
    expect(diagnostics.map((d) => [d.code, d.line])).toContainEqual(['PROC_SLA_NOBODY_AWAITED', 12]);
  });
});

describe('scheduling and recording', () => {
  const { ir } = load('{ due: P2WD, remind: [P1WD], escalate: [{ after: P2WD, to: boss }] }');
  const proc = compileProcedure(ir!);
  const staff = { id: 'sam', roles: ['staff'] };

  it('a request submitted the working day before Spring Festival 2026 is due after it', () => {
    // Saturday 2026-02-14 is worked (调休); 15–23 February are off.
    const first = startInstance(proc, {}, staff, cst('2026-02-14T09:00'));
    const points = slaPoints(proc, first.state, cn);
    expect(points.map((p) => [p.kind, local(p.at)])).toEqual([
      ['remind', '2026-02-24T09:00'],
      ['escalate', '2026-02-25T09:00'],
    ]);
    expect(local(slaDueAt(proc, first.state, cn)!)).toBe('2026-02-25T09:00');
    // Without a calendar, working days cannot be computed (the worker always passes one).
    expect(slaPoints(proc, first.state)).toEqual([]);
  });

  it('National Day 2025 and the year boundary', () => {
    // Sunday 2025-09-28 is worked; 1–8 October off; Saturday 2025-10-11 worked.
    const a = startInstance(proc, {}, staff, cst('2025-09-30T16:00')).state;
    expect(local(slaDueAt(proc, a, cn)!)).toBe('2025-10-10T16:00');
    const b = startInstance(proc, {}, staff, cst('2025-12-31T10:00')).state;
    expect(local(slaDueAt(proc, b, cn)!)).toBe('2026-01-05T10:00');
  });

  it('records a reminder to the awaited roles, then an escalation to its role, once each', () => {
    const t0 = cst('2026-03-02T09:00');
    let state = startInstance(proc, {}, staff, t0).state;
    const log = [] as ReturnType<typeof applySlaPoint>['record'][];
    const next = () => nextSlaPoint(slaPoints(proc, state, cn), sentSlaKeys(log));
    const fire = () => {
      const p = next()!;
      const view = describeInstance(proc, state, p.at);
      const out = applySlaPoint(proc, state, p, view.leaves, view.available, 't-1', p.at);
      state = out.state;
      log.push(out.record);
      return out;
    };
    const remind = fire();
    expect(remind.effects.map((e) => e.to)).toEqual(['approver']);
    expect(remind.effects[0]!.message.zh).toContain('提醒');
    expect(remind.record).toMatchObject({
      event: '$sla',
      seq: 1,
      data: { kind: 'remind', state: 'waiting' },
    });
    expect(escalationLevel(slaPoints(proc, state, cn), sentSlaKeys(log))).toBe(0);
    const esc = fire();
    expect(esc.effects).toEqual([
      expect.objectContaining({
        kind: 'notify',
        to: 'boss',
        message: expect.objectContaining({ en: expect.stringContaining('level 1') }),
      }),
    ]);
    expect(escalationLevel(slaPoints(proc, state, cn), sentSlaKeys(log))).toBe(1);
    expect(next()).toBeUndefined();
    // Leaving the state ends its points and its level.
    const after = applyEvent(
      proc,
      state,
      { type: 'APPROVE', actor: { id: 'ann', roles: ['approver'] } },
      t0 + 1,
    );
    expect(slaPoints(proc, after.state, cn)).toEqual([]);
  });
});

describe('the verifier and the shipped definition', () => {
  it('a deadline invariant holds by an escalation in calendar time, not by working days', () => {
    const inv = `invariants:
  - { id: told, kind: deadline, state: waiting, within: P1D, description: ${T} }
`;
    const withSla = (sla: string) => {
      const { ir, diagnostics } = validateProcedureText(def(sla) + inv, 't.yaml');
      expect(diagnostics).toEqual([]);
      return verifyProcedure(ir!);
    };
    expect(withSla('{ escalate: [{ after: PT12H, to: boss }] }').invariants[0]).toMatchObject({
      holds: true,
    });
    expect(withSla('{ escalate: [{ after: P1WD, to: boss }] }').invariants[0]).toMatchObject({
      holds: false,
    });
    expect(withSla('P1D').invariants[0]).toMatchObject({ holds: false });
  });

  it('file_access 1.3.0: reminded after one working day, escalated to the quality manager after two', () => {
    const { ir, diagnostics } = validateProcedureText(
      readFileSync('definitions/file_access.yaml', 'utf8'),
      'file_access.yaml',
    );
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(ir!.version).toBe('1.3.0');
    expect(ir!.root.states.submitted!.sla).toBe('P2WD');
    expect(ir!.root.states.submitted!.slaPlan).toEqual({
      remind: ['P1WD'],
      escalate: [{ after: 'P2WD', to: 'quality_manager' }],
    });
    expect(ir!.root.states.revoked!.after).toEqual([]);
    expect(verifyProcedure(ir!).invariants.find((r) => r.id === 'overdue_return_escalates')).toMatchObject({
      holds: true,
    });
  });
});

describe('after: P<n>WD (delayed transitions in working days)', () => {
  const text = def('P5D').replace(
    '    on:\n      APPROVE: { target: done, roles: approver }\n',
    '    on:\n      APPROVE: { target: done, roles: approver }\n    after: [{ delay: P3WD, target: done }]\n',
  );
  it('loads, verifies (no deadline proved by working days) and arms the deadline from the calendar', () => {
    const { ir, diagnostics } = validateProcedureText(text, 't.yaml');
    expect(diagnostics).toEqual([]);
    expect(usesWorkingDays(ir!.root)).toBe(true);
    const withCal = compileProcedure(ir!, { calendar: cn });
    // Monday 2025-09-29 10:00: Tuesday 30 is one, 1–8 October are off, Thursday 9 and Friday 10.
    const s = startInstance(withCal, {}, { id: 'sam', roles: ['staff'] }, cst('2025-09-29T10:00')).state;
    expect(s.timers.map((t) => local(t.dueAt))).toEqual(['2025-10-10T10:00']);
    // Without a calendar (the editor's simulator): three calendar days.
    const plain = startInstance(
      compileProcedure(ir!),
      {},
      { id: 'sam', roles: ['staff'] },
      cst('2025-09-29T10:00'),
    ).state;
    expect(plain.timers.map((t) => local(t.dueAt))).toEqual(['2025-10-02T10:00']);
    const inv = `invariants:\n  - { id: ends, kind: deadline, state: waiting, within: P30D, description: ${T} }\n`;
    const v = validateProcedureText(text + inv, 't.yaml');
    expect(verifyProcedure(v.ir!).invariants[0]).toMatchObject({ holds: false });
  });
});
