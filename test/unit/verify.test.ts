/**
 * Verifier. For every invariant kind: `fixtures/verify/disclosure.yaml`, where all of them hold,
 * and `broken-<kind>.yaml`, the same definition with one deliberate defect, whose exact shortest
 * counterexample is asserted. Every counterexample is replayed through the real engine (the
 * compiled XState machine driven by `runtime.ts`) to show the abstraction moves as XState does.
 * Smaller inline definitions cover parallel roots, simultaneous region transitions, loops,
 * timers, facts, the start input and the search caps; the last block runs `custodia verify`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compileProcedure } from '../../workflows/core/compile.ts';
import type { Json, ProcedureIR } from '../../workflows/core/ir.ts';
import { applyEvent, dropTimer, fireTimer, leafPaths, startInstance } from '../../workflows/core/runtime.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import {
  formatCounterexample,
  verifyProcedure,
  type InvariantResult,
  type PathStep,
} from '../../workflows/core/verify.ts';
import { verifyCommand } from '../../worker/cli/verify.ts';

const fixtures = new URL('../fixtures/verify/', import.meta.url);
const fixturePath = (name: string): string => fileURLToPath(new URL(`${name}.yaml`, fixtures));

function load(text: string, file: string): ProcedureIR {
  const result = validateProcedureText(text, file);
  if (!result.ir)
    throw new Error(result.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`).join('\n'));
  return result.ir;
}

const fixture = (name: string): ProcedureIR => load(readFileSync(fixturePath(name), 'utf8'), `${name}.yaml`);

const HEAD = `
version: 1.0.0
title: { zh: 测试, en: Test }
description: { zh: 测试, en: Test }
roles: { staff: { zh: 员工, en: Staff }, boss: { zh: 主管, en: Boss } }
`;
const inline = (id: string, body: string): ProcedureIR => load(`id: ${id}\n${HEAD}${body}`, `${id}.yaml`);

function byId(results: InvariantResult[], id: string): InvariantResult {
  const r = results.find((x) => x.id === id);
  if (!r) throw new Error(`no invariant ${id}`);
  return r;
}

/** Ids of the invariants that do not hold. */
const failing = (results: InvariantResult[]): string[] => results.filter((r) => !r.holds).map((r) => r.id);

/** A broken fixture: exactly the invariant `id` fails; its result. */
function onlyViolation(name: string, id: string): { ir: ProcedureIR; r: InvariantResult } {
  const ir = fixture(name);
  const { invariants } = verifyProcedure(ir);
  expect(failing(invariants)).toEqual([id]);
  return { ir, r: byId(invariants, id) };
}

/** Send every step of a counterexample through the real engine and compare the states. */
function replay(ir: ProcedureIR, steps: PathStep[], input: Record<string, Json> = {}): void {
  const proc = compileProcedure(ir);
  let now = 1_000;
  let state = startInstance(proc, input, { id: 'starter', roles: [] }, now).state;
  const leaves = (): string[] => [...leafPaths(proc, state.value)].sort();
  expect(steps[0]?.event).toBe('$start');
  expect(leaves()).toEqual([...(steps[0]?.to ?? [])].sort());
  steps.slice(1).forEach((s, i) => {
    now += 1_000;
    if (s.event.startsWith('after ')) {
      const timer = state.timers.find((t) => t.id.includes(`after_${s.event.slice('after '.length)}`));
      if (!timer) throw new Error(`step ${i + 1}: no pending timer for ${s.event}`);
      now = Math.max(now, timer.dueAt);
      state = fireTimer(proc, state, timer.id, now)?.state ?? dropTimer(state, timer.id);
    } else {
      const actor = { id: s.actor ?? `someone_${i + 1}`, roles: s.roles ?? [] };
      state = applyEvent(
        proc,
        state,
        { type: s.event, data: (s.data ?? {}) as Record<string, Json>, actor },
        now,
      ).state;
    }
    expect(leaves(), `after step ${i + 1} (${s.event})`).toEqual([...s.to].sort());
  });
}

const CLIENT = { client: 'acme' };
const START: PathStep = { event: '$start', to: ['draft'] };
const SUBMIT: PathStep = { event: 'SUBMIT', roles: ['project_staff'], actor: 'A1', to: ['review.basis'] };
const CONSENT: PathStep = {
  event: 'RECORD_BASIS',
  roles: ['quality_manager'],
  data: { basis: 'consent' },
  to: ['review.preparing.notice.not_needed', 'review.preparing.approval.pending'],
};
const APPROVE: PathStep = {
  event: 'APPROVE',
  roles: ['quality_manager'],
  actor: 'A2',
  to: ['review.preparing.notice.not_needed', 'review.preparing.approval.approved'],
};
const RELEASE: PathStep = { event: 'RELEASE', roles: ['general_manager'], to: ['released.packing'] };

describe('every invariant kind holds on the well-formed definition', () => {
  const result = verifyProcedure(fixture('disclosure'));

  it('proves all six, exhaustively', () => {
    expect(result.exhaustive).toBe(true);
    expect(result.invariants.map((r) => [r.kind, r.holds])).toEqual([
      ['must_pass', true],
      ['unreachable', true],
      ['never_when', true],
      ['distinct_actors', true],
      ['roles_only', true],
      ['ends_in', true],
    ]);
    for (const r of result.invariants) {
      expect(r.counterexample).toBeUndefined();
      expect(r.explored).toBe(result.explored);
    }
  });

  it('explores the loop (REQUEST_CHANGES back to draft) a finite number of times', () => {
    expect(result.explored).toBeGreaterThan(10);
    expect(result.explored).toBeLessThan(1_000);
  });
});

describe('each broken fixture fails its invariant with the shortest counterexample', () => {
  it('must_pass: released on the consent path without approval', () => {
    const { ir, r } = onlyViolation('broken-must_pass', 'approved_before_release');
    expect(r.counterexample).toEqual([START, SUBMIT, CONSENT, RELEASE]);
    expect(r.note).toBe('released is entered without passing review.preparing.approval.approved');
    replay(ir, r.counterexample ?? [], CLIENT);
  });

  it('unreachable: with the medium from the start input, DISPATCH may send electronically', () => {
    const ir = fixture('broken-unreachable');
    const { invariants } = verifyProcedure(ir);
    // The electronic end is also an end ends_in does not allow; paper_only still holds, because
    // `dispatched` is only entered when `ctx.medium == 'paper'` was true (a remembered fact).
    expect(failing(invariants)).toEqual(['never_electronic', 'ends']);
    const dispatch: PathStep = {
      event: 'DISPATCH',
      roles: ['project_staff'],
      guard: "!(ctx.medium == 'paper')",
      to: ['sent_electronically'],
    };
    const expected = [START, SUBMIT, CONSENT, APPROVE, RELEASE, dispatch];
    expect(byId(invariants, 'never_electronic').counterexample).toEqual(expected);
    expect(byId(invariants, 'ends').counterexample).toEqual(expected);
    replay(ir, expected, { ...CLIENT, medium: 'email' });
  });

  it('never_when: the submitter picks the medium and DISPATCH does not check it', () => {
    const { ir, r } = onlyViolation('broken-never_when', 'paper_only');
    expect(r.counterexample).toEqual([
      START,
      { ...SUBMIT, data: { medium: 'electronic' } },
      CONSENT,
      APPROVE,
      RELEASE,
      { event: 'DISPATCH', roles: ['project_staff'], to: ['dispatched'] },
    ]);
    expect(r.note).toBe(`in dispatched, ctx.medium != 'paper' can be true: ctx.medium may be "electronic"`);
    replay(ir, r.counterexample ?? [], CLIENT);
  });

  it('distinct_actors: the approver reopens and submits (the duty only runs one way)', () => {
    const { ir, r } = onlyViolation('broken-distinct_actors', 'four_eyes');
    expect(r.counterexample).toEqual([
      START,
      SUBMIT,
      CONSENT,
      APPROVE,
      { event: 'REOPEN', roles: ['project_staff'], to: ['draft'] },
      { ...SUBMIT, actor: 'A2' },
    ]);
    expect(r.note).toBe('A2 sends APPROVE and SUBMIT');
    replay(ir, r.counterexample ?? [], CLIENT);
  });

  it('roles_only: project staff may approve', () => {
    const { ir, r } = onlyViolation('broken-roles_only', 'approvers');
    expect(r.counterexample).toEqual([START, SUBMIT, CONSENT, { ...APPROVE, roles: ['project_staff'] }]);
    expect(r.note).toMatch(/^project_staff may send APPROVE in review\.preparing\.approval\.pending /);
    replay(ir, r.counterexample ?? [], CLIENT);
  });

  it('ends_in: a draft left for 60 days ends abandoned (a delayed transition)', () => {
    const { ir, r } = onlyViolation('broken-ends_in', 'ends');
    expect(r.counterexample).toEqual([START, { event: 'after P60D', to: ['abandoned'] }]);
    expect(r.note).toBe('ends in abandoned, not in dispatched or withdrawn or expired');
    replay(ir, r.counterexample ?? [], CLIENT);
  });

  it('ends_in: a hold that can never be resumed is a deadlock', () => {
    const { ir, r } = onlyViolation('broken-ends_in-deadlock', 'ends');
    expect(r.counterexample).toEqual([
      START,
      SUBMIT,
      { event: 'HOLD', roles: ['quality_manager'], to: ['on_hold'] },
    ]);
    expect(r.note).toBe('deadlock: nothing can happen in on_hold and the procedure has not ended');
    replay(ir, r.counterexample ?? [], CLIENT);
  });
});

describe('deadlock with data: stuck for some values the context schema allows', () => {
  it('ends_in: more copies back than issued enables neither CLOSE nor REPORT_MISSING; the values are reported', () => {
    const { ir, r } = onlyViolation('broken-ends_in-data', 'ends');
    expect(r.counterexample).toEqual([
      { event: '$start', to: ['approved'] },
      { event: 'ISSUE', roles: ['quality_administrator'], to: ['issued'] },
      { event: 'RETURN', roles: ['quality_administrator'], to: ['returned'] },
    ]);
    expect(r.values).toEqual({ copies_issued: 0, copies_returned: 1 });
    expect(r.note).toBe(
      'deadlock with data: in returned, with ctx.copies_issued = 0, ctx.copies_returned = 1 (allowed by the context schema) no event or timer is enabled: CLOSE needs ctx.copies_returned == ctx.copies_issued; REPORT_MISSING needs ctx.copies_returned < ctx.copies_issued',
    );
    // The real engine, driven with those values, is stuck: both events refused, no timer pending.
    const proc = compileProcedure(ir);
    const qa = { id: 'ada', roles: ['quality_administrator'] };
    let state = startInstance(proc, {}, qa, 1_000).state;
    state = applyEvent(proc, state, { type: 'ISSUE', data: { copies: 0 }, actor: qa }, 2_000).state;
    state = applyEvent(proc, state, { type: 'RETURN', data: { copies: 1 }, actor: qa }, 3_000).state;
    expect(state.done).toBe(false);
    expect(state.timers).toEqual([]);
    for (const type of ['CLOSE', 'REPORT_MISSING'])
      expect(() => applyEvent(proc, state, { type, actor: qa }, 4_000)).toThrow();
  });

  it('complementary guards (== / !=) leave no values stuck: the shipped file_access proves it', () => {
    const text = readFileSync(fixturePath('broken-ends_in-data'), 'utf8').replace(
      'guard: ctx.copies_returned < ctx.copies_issued',
      'guard: ctx.copies_returned != ctx.copies_issued',
    );
    const { invariants } = verifyProcedure(load(text, 'fixed.yaml'));
    expect(failing(invariants)).toEqual([]);
  });
});

describe('identity: actor guards are proved, not assumed (actor_is)', () => {
  it('a handover without its guards: the giver names themselves, and someone else signs', () => {
    const ir = fixture('broken-actor_is');
    const { invariants } = verifyProcedure(ir);
    expect(failing(invariants)).toEqual(['giver_is_not_receiver', 'receiver_signs']);
    const giver = byId(invariants, 'giver_is_not_receiver');
    expect(giver.counterexample).toEqual([
      { event: '$start', to: ['in_store'] },
      {
        event: 'HAND_OUT',
        roles: ['quality_administrator'],
        actor: 'X',
        data: { receiver: 'X' },
        to: ['issue_pending'],
      },
    ]);
    expect(giver.note).toBe(
      'HAND_OUT can be sent by the person data.receiver names (X) in in_store (/states/in_store/on/HAND_OUT/0): it has no guard',
    );
    const signer = byId(invariants, 'receiver_signs');
    expect(signer.counterexample).toEqual([
      { event: '$start', to: ['in_store'] },
      { event: 'HAND_OUT', roles: ['quality_administrator'], to: ['issue_pending'] },
      { event: 'ACCEPT_HAND_OUT', roles: ['project_staff'], actor: 'X', to: ['with_staff'] },
    ]);
    expect(signer.values).toEqual({ pending_receiver: 'Y' });
    // The real engine takes both steps as the counterexample says.
    const proc = compileProcedure(ir);
    const qa = { id: 'x', roles: ['quality_administrator'] };
    let state = startInstance(proc, {}, qa, 1_000).state;
    state = applyEvent(proc, state, { type: 'HAND_OUT', data: { receiver: 'x' }, actor: qa }, 2_000).state;
    const other = { id: 'z', roles: ['project_staff'] };
    state = applyEvent(proc, state, { type: 'ACCEPT_HAND_OUT', actor: other }, 3_000).state;
    expect(leafPaths(proc, state.value)).toEqual(['with_staff']);
  });

  it('the guards restored, both hold', () => {
    const text = readFileSync(fixturePath('broken-actor_is'), 'utf8')
      .replace('# guard deleted: data.receiver != actor.id', 'guard: data.receiver != actor.id')
      .replace(
        '# guard deleted: actor.id == ctx.pending_receiver',
        'guard: actor.id == ctx.pending_receiver',
      );
    expect(failing(verifyProcedure(load(text, 'fixed.yaml')).invariants)).toEqual([]);
  });

  it('the shipped sample_custody: deleting the HAND_OUT / ACCEPT_HAND_OUT guards breaks its identity invariants', () => {
    const shipped = fileURLToPath(new URL('../../definitions/sample_custody.yaml', import.meta.url));
    const text = readFileSync(shipped, 'utf8');
    expect(failing(verifyProcedure(load(text, 'sample_custody.yaml')).invariants)).toEqual([]);
    // The first of each: HAND_OUT in the store, ACCEPT_HAND_OUT in issue_pending.
    const broken = text
      .replace(/\n\s*guard: data\.receiver != actor\.id(?=\n)/, '')
      .replace(/\n\s*guard: actor\.id == ctx\.pending_receiver(?=\n)/, '');
    expect(broken).not.toBe(text);
    const { invariants } = verifyProcedure(load(broken, 'sample_custody.yaml'));
    expect(failing(invariants)).toEqual(['giver_is_not_receiver', 'receiver_signs_hand_out']);
  }, 60_000);
});

describe('timers: deadline', () => {
  it('an expiry timer with a guard leaves a request for a view waiting for ever', () => {
    const { ir, r } = onlyViolation('broken-deadline', 'undecided_expires');
    expect(r.counterexample).toEqual([
      { event: '$start', to: ['draft'] },
      { event: 'SUBMIT', roles: ['project_staff'], data: { access_kind: 'view' }, to: ['submitted'] },
    ]);
    expect(r.note).toBe('in submitted, no timer of submitted or its parents surely acts within P5D');
    replay(ir, r.counterexample ?? []);
  });

  it('holds without the guard, and fails with a shorter limit than the timer', () => {
    const text = readFileSync(fixturePath('broken-deadline'), 'utf8').replace(
      "        guard: ctx.access_kind == 'copy'\n",
      '',
    );
    expect(failing(verifyProcedure(load(text, 'fixed.yaml')).invariants)).toEqual([]);
    const tighter = text.replace('within: P5D', 'within: P2D');
    expect(failing(verifyProcedure(load(tighter, 'tight.yaml')).invariants)).toEqual(['undecided_expires']);
  });
});

describe('vacuity: invariants that hold but prove nothing are reported', () => {
  it('warns about a restated guard, an unreachable premise, a field nobody assigns and an event nobody sends', () => {
    const result = verifyProcedure(fixture('vacuous'));
    expect(failing(result.invariants)).toEqual([]);
    expect(result.warnings).toEqual([
      {
        invariant: 'closed_when_all_back',
        code: 'vacuous',
        message:
          'only restates the guard into closed (ctx.copies_returned == ctx.copies_issued): every way in already makes ctx.copies_returned != ctx.copies_issued false',
      },
      {
        invariant: 'never_archived_unsigned',
        code: 'vacuous',
        message: 'archived is never entered: the invariant cannot fail',
      },
      {
        invariant: 'never_closed_unchecked',
        code: 'never_assigned',
        message:
          'ctx.checkd is assigned by no transition on any path and has no default (only the start input could set it)',
      },
      {
        invariant: 'return_before_close',
        code: 'vacuous',
        message: 'archived is never entered: the invariant cannot fail',
      },
      {
        invariant: 'receiver_signs_archive',
        code: 'vacuous',
        message: 'ARCHIVE is never taken: the invariant cannot fail',
      },
    ]);
  });

  it('custodia verify prints them as warnings and still exits 0', () => {
    const err: string[] = [];
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    vi.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    expect(verifyCommand([fixturePath('vacuous')])).toBe(0);
    expect(err[0]).toMatch(
      /vacuous\.yaml:\d+:5 PROC_INVARIANT_VACUOUS warning: invariant closed_when_all_back — only restates/,
    );
    expect(err.filter((l) => l.includes('PROC_INVARIANT_FIELD_NEVER_ASSIGNED'))).toHaveLength(1);
    vi.restoreAllMocks();
  });

  it('the shipped definitions: every invariant holds, none vacuously', () => {
    const dir = fileURLToPath(new URL('../../definitions/', import.meta.url));
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      const result = verifyProcedure(load(readFileSync(dir + name, 'utf8'), name));
      expect(failing(result.invariants), name).toEqual([]);
      expect(result.warnings, name).toEqual([]);
    }
  }, 120_000);
});

describe('formatCounterexample', () => {
  it('prints one numbered step a line, with the person, roles, data and assumed guards', () => {
    const text = formatCounterexample([
      START,
      SUBMIT,
      CONSENT,
      { event: 'after P5D', guard: 'ctx.n < 3', to: ['a', 'b'] },
    ]);
    expect(text).toBe(
      [
        '  0. $start → draft',
        '  1. SUBMIT by A1 (project_staff) → review.basis',
        '  2. RECORD_BASIS (quality_manager) {"basis":"consent"} → review.preparing.notice.not_needed, review.preparing.approval.pending',
        '  3. after P5D [assuming ctx.n < 3] → a, b',
      ].join('\n'),
    );
  });
});

const GO_EVENTS = `
events:
  GO: { title: { zh: 走, en: Go } }
  STOP: { title: { zh: 停, en: Stop } }
  STEP: { title: { zh: 步, en: Step } }
`;

describe('statechart semantics', () => {
  it('one event moves every parallel region that takes it; the machine ends when all regions are final', () => {
    const ir = inline(
      'par',
      `${GO_EVENTS}
type: parallel
on:
  STOP: { target: right.stopped, roles: boss }
states:
  left:
    title: { zh: 左, en: Left }
    initial: idle
    states:
      idle: { title: { zh: 闲, en: Idle }, on: { GO: { target: done, roles: staff } } }
      done: { title: { zh: 完, en: Done }, type: final }
  right:
    title: { zh: 右, en: Right }
    initial: idle
    states:
      idle:
        title: { zh: 闲, en: Idle }
        on:
          GO: { target: done, roles: staff }
          STOP: { target: idle, roles: boss }
      done: { title: { zh: 完, en: Done }, type: final }
      stopped: { title: { zh: 停, en: Stopped }, on: { STEP: { target: done, roles: staff } } }
invariants:
  - id: both_at_once
    kind: unreachable
    state: right.done
    description: { zh: 示例, en: Example }
  - id: never_stopped
    kind: unreachable
    state: right.stopped
    description: { zh: 示例, en: Example }
  - id: ends_done
    kind: ends_in
    states: [left.done]
    description: { zh: 示例, en: Example }
`,
    );
    const { invariants } = verifyProcedure(ir);
    const both = byId(invariants, 'both_at_once').counterexample ?? [];
    expect(both).toEqual([
      { event: '$start', to: ['left.idle', 'right.idle'] },
      { event: 'GO', roles: ['staff'], to: ['left.done', 'right.done'] },
    ]);
    replay(ir, both);
    // STOP in right.idle is taken by the deeper handler (back to idle), not the root one; the root's
    // STOP applies only once right.idle is left, i.e. after GO, when the machine has already ended.
    expect(byId(invariants, 'never_stopped').holds).toBe(true);
    expect(byId(invariants, 'ends_done').holds).toBe(true);
  });

  it('deeper handlers win, cross-region targets re-enter the region left, two roles move two regions', () => {
    const ir = inline(
      'regions',
      `${GO_EVENTS}
type: parallel
states:
  left:
    title: { zh: 左, en: Left }
    initial: idle
    on:
      STOP: { target: left.stopped, roles: boss }
    states:
      idle:
        title: { zh: 闲, en: Idle }
        on:
          GO: { target: done, roles: staff }
          STOP: { target: idle, roles: boss }
          STEP: { target: right.side, roles: staff }
      done: { title: { zh: 完, en: Done }, type: final }
      stopped: { title: { zh: 停, en: Stopped }, on: { STEP: { target: idle, roles: staff } } }
  right:
    title: { zh: 右, en: Right }
    initial: idle
    states:
      idle: { title: { zh: 闲, en: Idle }, on: { GO: { target: done, roles: boss } } }
      side: { title: { zh: 侧, en: Side }, on: { GO: { target: done, roles: boss } } }
      done: { title: { zh: 完, en: Done }, type: final }
`,
    );
    const probe = (state: string): PathStep[] => {
      const description = { zh: '探', en: 'probe' };
      const invariants = [{ id: 'p', kind: 'unreachable' as const, state, description, clauses: [] }];
      return verifyProcedure({ ...ir, invariants }).invariants[0]?.counterexample ?? [];
    };
    const start: PathStep = { event: '$start', to: ['left.idle', 'right.idle'] };
    // In left.idle the child's STOP shadows the parent's; in the final left.done the parent's applies.
    const stopped = probe('left.stopped');
    expect(stopped).toEqual([
      start,
      { event: 'GO', roles: ['staff'], to: ['left.done', 'right.idle'] },
      { event: 'STOP', roles: ['boss'], to: ['left.stopped', 'right.idle'] },
    ]);
    // A target in the other region: the parallel state is the domain, so `left` is re-entered.
    const side = probe('right.side');
    expect(side).toEqual([start, { event: 'STEP', roles: ['staff'], to: ['left.idle', 'right.side'] }]);
    // One person holding both roles finishes both regions, and the machine, in one step.
    const ends = {
      id: 'e',
      kind: 'ends_in' as const,
      states: ['left.idle'],
      description: { zh: '探', en: 'probe' },
      clauses: [],
    };
    const both = verifyProcedure({ ...ir, invariants: [ends] }).invariants[0];
    expect(both?.counterexample).toEqual([
      start,
      { event: 'GO', roles: ['staff', 'boss'], to: ['left.done', 'right.done'] },
    ]);
    for (const path of [stopped, side, both?.counterexample ?? []]) replay(ir, path);
  });

  it('a final state inside a compound state does not end the machine (as in XState)', () => {
    const ir = inline(
      'nested_final',
      `${GO_EVENTS}
initial: work
states:
  work:
    title: { zh: 工作, en: Work }
    initial: busy
    states:
      busy: { title: { zh: 忙, en: Busy }, on: { GO: { target: finished, roles: staff } } }
      finished: { title: { zh: 完, en: Finished }, type: final }
invariants:
  - id: ends
    kind: ends_in
    states: [work.finished]
    description: { zh: 示例, en: Example }
`,
    );
    const r = byId(verifyProcedure(ir).invariants, 'ends');
    expect(r.note).toBe('deadlock: nothing can happen in work.finished and the procedure has not ended');
    expect(r.counterexample).toEqual([
      { event: '$start', to: ['work.busy'] },
      { event: 'GO', roles: ['staff'], to: ['work.finished'] },
    ]);
    const proc = compileProcedure(ir);
    const started = startInstance(proc, {}, { id: 's', roles: [] }, 0).state;
    const after = applyEvent(proc, started, { type: 'GO', actor: { id: 'a', roles: ['staff'] } }, 1).state;
    expect(after.done).toBe(false);
  });

  it('a loop with no way to an end is reported where it starts', () => {
    const ir = inline(
      'livelock',
      `${GO_EVENTS}
initial: ping
states:
  ping: { title: { zh: 乒, en: Ping }, on: { GO: { target: pong, roles: staff }, STOP: { target: off, roles: boss } } }
  pong: { title: { zh: 乓, en: Pong }, on: { GO: { target: ping, roles: staff }, STEP: { target: spin, roles: staff } } }
  spin: { title: { zh: 转, en: Spin }, on: { GO: { target: spin_more, roles: staff } } }
  spin_more: { title: { zh: 再转, en: Spin more }, on: { GO: { target: spin, roles: staff } } }
  off: { title: { zh: 关, en: Off }, type: final }
invariants:
  - id: ends
    kind: ends_in
    states: [off]
    description: { zh: 示例, en: Example }
`,
    );
    const r = byId(verifyProcedure(ir).invariants, 'ends');
    expect(r.note).toBe('from spin no path leads to an end');
    expect(r.counterexample?.map((s) => s.event)).toEqual(['$start', 'GO', 'STEP']);
  });

  it('a target inside a parallel state enters the other regions at their initial states', () => {
    const ir = fixture('disclosure');
    // Shown by the consent step of every fixture path; replayed against XState above. Here: the
    // other branch of the guard enters the parallel state at both initials.
    const result = verifyProcedure({
      ...ir,
      invariants: [
        {
          id: 'probe',
          kind: 'unreachable',
          state: 'review.preparing.notice.pending',
          description: { zh: '探', en: 'probe' },
          clauses: [],
        },
      ],
    });
    const path = result.invariants[0]?.counterexample ?? [];
    expect(path.at(-1)).toEqual({
      event: 'RECORD_BASIS',
      roles: ['quality_manager'],
      data: { basis: 'contract' },
      to: ['review.preparing.notice.pending', 'review.preparing.approval.pending'],
    });
    replay(ir, path, CLIENT);
  });
});

const COUNTER = (limit: number): string => `
context:
  count: { type: integer }
events:
  START: { title: { zh: 始, en: Start } }
  STEP: { title: { zh: 步, en: Step } }
  FINISH: { title: { zh: 完, en: Finish } }
initial: idle
states:
  idle:
    title: { zh: 闲, en: Idle }
    on:
      START: { target: counting, roles: staff, actions: [{ assign: { count: '0' } }] }
  counting:
    title: { zh: 数, en: Counting }
    on:
      STEP: { target: counting, roles: staff, guard: 'ctx.count < ${limit}', actions: [{ assign: { count: ctx.count + 1 } }] }
      FINISH:
        - { target: done, roles: staff, guard: 'ctx.count == ${limit}' }
        - { target: overflow, roles: staff, guard: 'ctx.count > ${limit}' }
  done: { title: { zh: 完, en: Done }, type: final }
  overflow: { title: { zh: 溢, en: Overflow }, type: final }
invariants:
  - id: no_overflow
    kind: unreachable
    state: overflow
    description: { zh: 示例, en: Example }
  - id: ends_done
    kind: ends_in
    states: [done]
    description: { zh: 示例, en: Example }
`;

describe('loops and context values', () => {
  it('a bounded counter is tracked exactly: the overflow branch is proved impossible', () => {
    const result = verifyProcedure(inline('counter', COUNTER(3)));
    expect(result.exhaustive).toBe(true);
    expect(failing(result.invariants)).toEqual([]);
  });

  it('a long counter loop still terminates: the field is widened to unknown (conservatively)', () => {
    const result = verifyProcedure(inline('counter', COUNTER(1000)));
    expect(result.exhaustive).toBe(true);
    expect(result.explored).toBeLessThan(200);
    // Once `count` is unknown the overflow guard is undecidable, so the proof is lost, not faked.
    const r = byId(result.invariants, 'no_overflow');
    expect(r.holds).toBe(false);
    expect(r.counterexample?.at(-1)).toEqual({
      event: 'FINISH',
      roles: ['staff'],
      guard: '!(ctx.count == 1000) && ctx.count > 1000',
      to: ['overflow'],
    });
  });

  it('a field the start input may set is unknown until assigned', () => {
    const ir = inline(
      'start_input',
      `
context:
  medium: { type: string, default: paper, input: true }
  channel: { type: string, default: courier, schema: { enum: [courier, pickup] }, input: true }
events:
  SEND: { title: { zh: 送, en: Send } }
initial: ready
states:
  ready: { title: { zh: 备, en: Ready }, on: { SEND: { target: sent, roles: staff } } }
  sent: { title: { zh: 送, en: Sent }, type: final }
invariants:
  - id: paper
    kind: never_when
    state: sent
    when: ctx.medium != 'paper'
    description: { zh: 示例, en: Example }
  - id: known_channel
    kind: never_when
    state: sent
    when: "!(ctx.channel in ['courier', 'pickup'])"
    description: { zh: 示例, en: Example }
`,
    );
    const { invariants } = verifyProcedure(ir);
    expect(byId(invariants, 'paper').note).toBe(
      "in sent, ctx.medium != 'paper' can be true: ctx.medium is unknown here",
    );
    // An enum limits what the start input can say.
    expect(byId(invariants, 'known_channel').holds).toBe(true);
  });

  it('remembers an undecidable guard as a fact until a field it reads changes', () => {
    const ir = inline(
      'facts',
      `
context:
  issued: { type: integer, input: true }
  returned: { type: integer, input: true }
events:
  CLOSE: { title: { zh: 关, en: Close } }
  REOPEN: { title: { zh: 开, en: Reopen } }
  COUNT: { title: { zh: 数, en: Count }, data: { type: object, properties: { n: { type: integer } } } }
initial: open
states:
  open:
    title: { zh: 开, en: Open }
    on:
      CLOSE: { target: closed, roles: staff, guard: ctx.returned == ctx.issued }
  closed:
    title: { zh: 关, en: Closed }
    on:
      COUNT: { target: closed, roles: staff, actions: [{ assign: { returned: data.n } }] }
      REOPEN: { target: open, roles: staff }
invariants:
  - id: all_back
    kind: never_when
    state: closed
    when: ctx.issued != ctx.returned
    description: { zh: 示例, en: Example }
`,
    );
    const r = byId(verifyProcedure(ir).invariants, 'all_back');
    // Holds right after CLOSE; recounting in `closed` forgets the fact, and the path shows it.
    expect(r.counterexample?.map((s) => s.event)).toEqual(['$start', 'CLOSE', 'COUNT']);
    expect(r.counterexample?.[1]?.guard).toBe('ctx.returned == ctx.issued');
  });
});

describe('facts respect CEL errors', () => {
  it('a guard that was not true does not make its negation true (a missing field makes both false)', () => {
    const ir = inline(
      'errors',
      `${GO_EVENTS}
context:
  a: { type: integer, input: true }
  b: { type: integer, input: true }
initial: open
states:
  open:
    title: { zh: 开, en: Open }
    on:
      GO:
        - { target: same, roles: staff, guard: ctx.a == ctx.b }
        - { target: differ, roles: staff }
  same: { title: { zh: 同, en: Same }, type: final }
  differ:
    title: { zh: 异, en: Differ }
    on:
      STEP:
        - { target: apart, roles: staff, guard: ctx.a != ctx.b }
        - { target: neither, roles: staff }
  apart: { title: { zh: 离, en: Apart }, type: final }
  neither: { title: { zh: 皆非, en: Neither }, type: final }
invariants:
  - id: never_neither
    kind: unreachable
    state: neither
    description: { zh: 示例, en: Example }
  - id: differ_means_not_equal
    kind: never_when
    state: differ
    when: ctx.a == ctx.b
    description: { zh: 示例, en: Example }
`,
    );
    const { invariants } = verifyProcedure(ir);
    expect(byId(invariants, 'differ_means_not_equal').holds).toBe(true);
    const r = byId(invariants, 'never_neither');
    expect(r.counterexample).toEqual([
      { event: '$start', to: ['open'] },
      { event: 'GO', roles: ['staff'], guard: '!(ctx.a == ctx.b)', to: ['differ'] },
      { event: 'STEP', roles: ['staff'], guard: '!(ctx.a != ctx.b)', to: ['neither'] },
    ]);
    replay(ir, r.counterexample ?? [], {});
  });
});

describe('timers', () => {
  const TIMERS = `
context:
  reminders: { type: integer }
  reminded: { type: boolean }
events:
  WAIT: { title: { zh: 等, en: Wait } }
initial: idle
states:
  idle:
    title: { zh: 闲, en: Idle }
    on:
      WAIT: { target: waiting, roles: staff, actions: [{ assign: { reminders: '0', reminded: 'false' } }] }
  waiting:
    title: { zh: 等, en: Waiting }
    after:
      - delay: P1D
        target: late
      - delay: PT1H
        actions: [{ assign: { reminders: ctx.reminders + 1, reminded: 'true' } }]
  late: { title: { zh: 迟, en: Late }, type: final }
invariants:
  - id: reminded_first
    kind: never_when
    state: late
    when: "!ctx.reminded"
    description: { zh: 示例, en: Example }
  - id: once_per_entry
    kind: never_when
    state: waiting
    when: ctx.reminders > 1
    description: { zh: 示例, en: Example }
  - id: ends_late
    kind: ends_in
    states: [late]
    description: { zh: 示例, en: Example }
`;

  it("a state's shorter timer fires before its longer one, and each fires once per entry", () => {
    const result = verifyProcedure(inline('timers', TIMERS));
    expect(failing(result.invariants)).toEqual([]);
  });

  it('the path through both timers replays on the engine', () => {
    const ir = inline(
      'timers',
      TIMERS.replace('kind: ends_in\n    states: [late]', 'kind: unreachable\n    state: late'),
    );
    const r = byId(verifyProcedure(ir).invariants, 'ends_late');
    expect(r.counterexample).toEqual([
      { event: '$start', to: ['idle'] },
      { event: 'WAIT', roles: ['staff'], to: ['waiting'] },
      { event: 'after PT1H', to: ['waiting'] },
      { event: 'after P1D', to: ['late'] },
    ]);
    replay(ir, r.counterexample ?? []);
  });
});

describe('search limits', () => {
  it('a cut-short search proves nothing it has not finished, and says so', () => {
    const result = verifyProcedure(fixture('disclosure'), { maxConfigurations: 10 });
    expect(result.exhaustive).toBe(false);
    expect(result.explored).toBe(10);
    // roles_only is a static check: it holds regardless of the search.
    expect(failing(result.invariants)).toEqual([
      'approved_before_release',
      'never_electronic',
      'paper_only',
      'four_eyes',
      'ends',
    ]);
    expect(byId(result.invariants, 'never_electronic').note).toMatch(
      /^undecided: the search stopped after 10 configurations/,
    );
  });

  it('maxDepth bounds the path length', () => {
    const result = verifyProcedure(fixture('broken-must_pass'), { maxDepth: 2 });
    expect(result.exhaustive).toBe(false);
    // The violation needs three events: not found within two, and not claimed to hold either.
    expect(byId(result.invariants, 'approved_before_release')).toMatchObject({ holds: false });
    expect(byId(result.invariants, 'approved_before_release').counterexample).toBeUndefined();
    const deeper = verifyProcedure(fixture('broken-must_pass'), { maxDepth: 3 });
    expect(byId(deeper.invariants, 'approved_before_release').counterexample).toHaveLength(4);
  });
});

describe('custodia verify', () => {
  afterEach(() => vi.restoreAllMocks());

  function run(args: string[]): { code: number; out: string; err: string } {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    vi.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    const code = verifyCommand(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('prints one line per proved definition and exits 0', () => {
    const { code, out, err } = run([fixturePath('disclosure')]);
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(out).toMatch(/^✓ disclosure: 6 invariant\(s\) hold \(\d+ configurations explored\)$/);
  });

  it('prints the violated invariant at its position, with the counterexample, and exits 1', () => {
    const { code, err } = run([fixturePath('broken-ends_in')]);
    expect(code).toBe(1);
    const lines = err.split('\n');
    expect(lines[0]).toMatch(
      /broken-ends_in\.yaml:155:5 PROC_INVARIANT_VIOLATED invariant ends \(ends_in\) violated — Ends dispatched, withdrawn or expired$/,
    );
    expect(lines.slice(1, 5)).toEqual([
      '  ends in abandoned, not in dispatched or withdrawn or expired',
      '  counterexample:',
      '    0. $start → draft',
      '    1. after P60D → abandoned',
    ]);
  });

  it('fails on invalid definitions and asks for a file', () => {
    expect(() => run([])).toThrow(/verify needs at least one file or folder/);
    expect(() => run(['no/such/file.yaml'])).toThrow(/no such file or folder/);
  });
});
