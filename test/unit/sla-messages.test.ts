/**
 * `sla:` items with their own text, recipient and clauses (`core/sla.ts`), and the shipped
 * definitions on them: every hand-written "after D in this state, tell role R" is an `sla` reminder
 * or escalation, and what the procedure counts in working days is counted in working days.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCalendar, type CalendarDiagnosticCode } from '../../workflows/core/calendar-load.ts';
import type { BusinessCalendar } from '../../workflows/core/calendar.ts';
import { compileProcedure } from '../../workflows/core/compile.ts';
import { CALENDAR_DIAGNOSTIC_TEXT, DIAGNOSTIC_TEXT } from '../../workflows/core/diagnostic-texts.ts';
import { hashProcedure } from '../../workflows/core/hash.ts';
import type { ProcedureIR, StateIR } from '../../workflows/core/ir.ts';
import { walkStates } from '../../workflows/core/ir-walk.ts';
import { describeInstance, startInstance } from '../../workflows/core/runtime.ts';
import { applySlaPoint, escalatesWithin, reminderOf, slaPoints } from '../../workflows/core/sla.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import { verifyProcedure } from '../../workflows/core/verify.ts';
import { loadDefinitions } from '../../worker/definitions.ts';

const FILE = 'definitions/calendars/cn-2025-2027.json';
const cn = loadCalendar(readFileSync(FILE, 'utf8'), FILE).calendar as BusinessCalendar;

const T = '{ zh: 甲, en: A }';
const def = (sla: string) => `id: t
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
  done: { title: ${T}, type: final }
`;
const load = (sla: string) => validateProcedureText(def(sla), 't.yaml');

describe('sla items with their own message, recipient and clauses', () => {
  const text =
    '{ due: P2D, remind: [PT4H, { after: P1D, to: client, message: { zh: 请取回, en: Please collect } }], ' +
    "escalate: [{ after: P2D, to: boss, message: { zh: 逾期, en: Overdue }, clauses: ['4.2.2'] }, { after: P2D, to: approver }, { after: P3D, to: boss }] }";
  const { ir, diagnostics } = load(text);

  it('loads them; a plain reminder keeps its IR (and the hash of plans written before)', () => {
    expect(diagnostics).toEqual([]);
    expect(ir!.root.states.waiting!.slaPlan).toEqual({
      remind: ['PT4H', { after: 'P1D', to: 'client', message: { zh: '请取回', en: 'Please collect' } }],
      escalate: [
        { after: 'P2D', to: 'boss', message: { zh: '逾期', en: 'Overdue' }, clauses: ['4.2.2'] },
        { after: 'P2D', to: 'approver' },
        { after: 'P3D', to: 'boss' },
      ],
    });
    // `{ after: X }` alone is the plain delay: same IR, same hash as `remind: [X]`.
    const plain = load('{ remind: [PT4H], escalate: [{ after: P1D, to: boss }] }').ir!;
    const object = load('{ remind: [{ after: PT4H }], escalate: [{ after: P1D, to: boss }] }').ir!;
    expect(object.root.states.waiting!.slaPlan).toEqual({
      remind: ['PT4H'],
      escalate: [{ after: 'P1D', to: 'boss' }],
    });
    expect(hashProcedure(object)).toBe(hashProcedure(plain));
  });

  it('notifies with the item’s own text and clauses; same delay, same level', () => {
    const proc = compileProcedure(ir!);
    const at0 = Date.parse('2026-03-02T09:00:00Z');
    const { state } = startInstance(proc, {}, { id: 'sam', roles: ['staff'] }, at0);
    const points = slaPoints(proc, state, cn);
    expect(points.map((p) => [p.kind, p.to, p.level])).toEqual([
      ['remind', undefined, undefined],
      ['remind', 'client', undefined],
      ['escalate', 'boss', 1],
      ['escalate', 'approver', 1],
      ['escalate', 'boss', 2],
    ]);
    const view = describeInstance(proc, state, at0);
    const apply = (i: number) =>
      applySlaPoint(proc, state, points[i]!, view.leaves, view.available, 'wf-1', points[i]!.at);
    // The plain reminder: the awaited role, the generic text, the state's clauses.
    expect(apply(0).effects).toEqual([
      {
        kind: 'notify',
        to: 'approver',
        message: expect.objectContaining({ en: expect.stringMatching(/^Reminder: /) }),
      },
    ]);
    // Its own recipient (the client) and text.
    expect(apply(1).effects).toEqual([
      { kind: 'notify', to: 'client', message: { zh: '请取回', en: 'Please collect' } },
    ]);
    const overdue = apply(2);
    expect(overdue.effects).toEqual([{ kind: 'notify', to: 'boss', message: { zh: '逾期', en: 'Overdue' } }]);
    expect(overdue.record.clauses).toEqual(['4.2.2']);
    expect(overdue.record.data).toMatchObject({ kind: 'escalate', roles: ['boss'], level: 1 });
    expect(apply(3).effects).toEqual([
      {
        kind: 'notify',
        to: 'approver',
        message: expect.objectContaining({ en: expect.stringMatching(/^Escalation \(level 1\)/) }),
      },
    ]);
    expect(apply(3).record.clauses).toEqual([]);
  });

  it('a text in one language is sent in it to every reader', () => {
    const en = validateProcedureText(
      def("{ escalate: [{ after: P1D, to: boss, message: { en: 'Overdue' } }] }")
        .replace(/\{ zh: [^,]+, en: ([^}]+) \}/g, '{ en: $1 }')
        .replace('version: 1.0.0', 'version: 1.0.0\nlanguages: [en]'),
      't.yaml',
    );
    expect(en.diagnostics).toEqual([]);
    const proc = compileProcedure(en.ir!);
    const { state } = startInstance(proc, {}, { id: 'sam', roles: ['staff'] }, 0);
    const [point] = slaPoints(proc, state);
    const view = describeInstance(proc, state, 0);
    const out = applySlaPoint(proc, state, point!, view.leaves, view.available, 'wf', point!.at);
    expect(out.effects[0]!.message).toEqual({ zh: 'Overdue', en: 'Overdue' });
  });

  it('refuses bad items with their position and zh/en texts', () => {
    // [sla, code, the text the diagnostic points at (its last occurrence)]: all on line 12.
    const cases: [string, string, string][] = [
      ['{ remind: [{ after: P1D, to: bosss }] }', 'PROC_UNKNOWN_ROLE', 'bosss'],
      [
        '{ remind: [{ after: P1D, to: boss }, { after: P1D, to: boss }] }',
        'PROC_SLA_DUPLICATE',
        '{ after: P1D, to: boss }',
      ],
      ['{ escalate: [{ after: P1D, to: boss }, { after: P1D, to: boss }] }', 'PROC_SLA_DUPLICATE', 'boss'],
      ['{ due: P1D, remind: [{ after: P1D, to: boss }] }', 'PROC_SLA_ORDER', 'P1D'],
      [
        '{ escalate: [{ after: P2D, to: boss }, { after: P1D, to: approver }, { after: P1D, to: staff }] }',
        'PROC_SLA_ORDER',
        'P1D, to: approver',
      ],
      [
        '{ escalate: [{ after: P1D, to: boss, message: { zh: 逾期 } }] }',
        'PROC_MISSING_TRANSLATION',
        '{ zh: 逾期 }',
      ],
      ["{ escalate: [{ after: P1D, to: boss, message: 'late' }] }", 'PROC_SCHEMA', "'late'"],
      ['{ remind: [{ to: boss }] }', 'PROC_SCHEMA', '{ to: boss }'],
    ];
    for (const [sla, code, at] of cases) {
      const { diagnostics } = load(sla);
      const column = '    sla: '.length + sla.lastIndexOf(at) + 1;
      expect(
        diagnostics.map((d) => [d.code, d.line, d.column]),
        sla,
      ).toContainEqual([code, 12, column]);
      expect(DIAGNOSTIC_TEXT[code as keyof typeof DIAGNOSTIC_TEXT].en).toBeTruthy();
    }
    // A reminder naming its role may stand in a state nobody acts in (the generic one may not).
    expect(load('{ remind: [{ after: P1D, to: boss }] }').diagnostics).toEqual([]);
  });

  it('the verifier counts a working-day escalation against a working-day deadline, never a calendar one', () => {
    const state = load('{ escalate: [{ after: P10WD, to: boss }] }').ir!.root.states.waiting!;
    expect(escalatesWithin(state, { workingDays: 10 })).toBe(true);
    expect(escalatesWithin(state, { workingDays: 9 })).toBe(false);
    expect(escalatesWithin(state, { ms: 14 * 86_400_000 })).toBe(false);
    const days = load('{ escalate: [{ after: P7D, to: boss }] }').ir!.root.states.waiting!;
    expect(escalatesWithin(days, { workingDays: 7 })).toBe(true);
  });
});

describe('every calendar code has its texts', () => {
  it('zh and en for each CAL_* code the loader and the calendar report', () => {
    const codes = new Set<string>();
    for (const f of ['workflows/core/calendar-load.ts', 'workflows/core/calendar.ts'])
      for (const m of readFileSync(f, 'utf8').matchAll(/'(CAL_[A-Z_]+)'/g)) codes.add(m[1]!);
    expect(codes.size).toBeGreaterThan(10);
    for (const code of codes) {
      const t = CALENDAR_DIAGNOSTIC_TEXT[code as CalendarDiagnosticCode];
      expect(t?.zh, code).toBeTruthy();
      expect(t?.en, code).toBeTruthy();
    }
    expect(Object.keys(CALENDAR_DIAGNOSTIC_TEXT).sort()).toEqual([...codes].sort());
  });
});

describe('the shipped definitions on sla', () => {
  const { definitions, diagnostics } = loadDefinitions(['definitions'], process.cwd(), { verify: false });
  const irs: ProcedureIR[] = [...definitions.values()].map((d) => d.ir);
  const state = (id: string, path: string): StateIR => {
    const ir = irs.find((i) => i.id === id)!;
    return [...walkStates(ir.root)].find((s) => s.path === path)!;
  };

  it('load without diagnostics', () => {
    expect(diagnostics).toEqual([]);
    expect(irs.length).toBe(14);
  });

  it('violation_case: no root cause within 10 working days escalates to the General Manager', () => {
    const contained = state('violation_case', 'contained');
    expect(contained.sla).toBe('P10WD');
    expect(contained.slaPlan?.escalate[0]).toMatchObject({ after: 'P10WD', to: 'general_manager' });
    expect(contained.slaPlan?.escalate[0]?.message?.en).toContain('10 working days');
  });

  it('violation_case: its deadline invariants stand on the sla escalations (without them, they fail)', () => {
    const ir = irs.find((i) => i.id === 'violation_case')!;
    const ids = ['containment_escalates', 'investigation_escalates', 'decision_reminder'];
    const held = (x: ProcedureIR) =>
      verifyProcedure(x)
        .invariants.filter((r) => ids.includes(r.id))
        .map((r) => [r.id, r.holds]);
    expect(held(ir)).toEqual(ids.map((id) => [id, true]));
    const bare = structuredClone(ir);
    for (const s of walkStates(bare.root)) delete s.slaPlan;
    expect(held(bare)).toEqual(ids.map((id) => [id, false]));
  });

  it('sample_custody: a handover not signed for within 1 working day escalates', () => {
    for (const path of ['custody.issue_pending', 'custody.transfer_pending', 'custody.return_pending']) {
      const s = state('sample_custody', path);
      expect(s.sla, path).toBe('P1WD');
      expect(
        s.slaPlan?.escalate.map((e) => [e.after, e.to]),
        path,
      ).toEqual([
        ['P1WD', 'application_reviewer'],
        ['P1WD', 'quality_manager'],
      ]);
    }
  });

  it('no notify-only after block is left: reminders and escalations are sla items', () => {
    const left: string[] = [];
    for (const ir of irs)
      for (const s of walkStates(ir.root))
        for (const t of s.after)
          if (!t.target && !t.guard && t.actions.every((a) => a.kind === 'notify'))
            left.push(`${ir.id} ${s.path} after ${t.delay}`);
    expect(left).toEqual([]);
  });

  it('a text that speaks of working days is on a working-day delay', () => {
    const wrong: string[] = [];
    for (const ir of irs)
      for (const s of walkStates(ir.root)) {
        const items = [...(s.slaPlan?.remind ?? []).map(reminderOf), ...(s.slaPlan?.escalate ?? [])];
        for (const item of items) {
          const words = `${item.message?.zh ?? ''} ${item.message?.en ?? ''}`;
          if (/工作日|working day/.test(words) && !/WD$/.test(item.after))
            wrong.push(`${ir.id} ${s.path} after ${item.after}`);
        }
        for (const t of s.after)
          for (const a of t.actions)
            if (a.kind === 'notify' && /工作日|working day/.test(`${a.message.zh} ${a.message.en}`))
              if (!/WD$/.test(t.delay)) wrong.push(`${ir.id} ${s.path} after ${t.delay}`);
      }
    expect(wrong).toEqual([]);
  });
});
