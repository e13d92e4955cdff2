/**
 * What a migration sets off at once (`workflows/core/migration-deadlines.ts`), pure: instances of
 * deadline_request 1.0.0 (no deadlines) driven with the real runtime, planned with the real
 * `planMigration`, then asked which of 2.0.0's deadlines — counted from the entry of the states,
 * the compound `review`'s from its own — are past (fire at once) or due within the horizon.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BusinessCalendar } from '../../workflows/core/calendar.ts';
import { loadCalendar } from '../../workflows/core/calendar-load.ts';
import { compileProcedure, type CompiledProcedure } from '../../workflows/core/compile.ts';
import type { ProcedureIR } from '../../workflows/core/ir.ts';
import { loadProcedure } from '../../workflows/core/load.ts';
import { planMigration } from '../../workflows/core/migration.ts';
import { countDeadlines, migrationDeadlines } from '../../workflows/core/migration-deadlines.ts';
import {
  applyEvent,
  describeInstance,
  startInstance,
  type InstanceState,
} from '../../workflows/core/runtime.ts';
import { slaDueAt, slaDueTimes } from '../../workflows/core/sla.ts';
import { openApiDocument } from '../../worker/api/openapi.ts';
import { parseHorizon } from '../../worker/migration/migrations.ts';

const FIXTURES = path.join(import.meta.dirname, '../fixtures/migration-deadlines');
function load(version: string, edit: (t: string) => string = (t) => t): ProcedureIR {
  const file = path.join(FIXTURES, version, 'deadline_request.yaml');
  const r = loadProcedure(edit(readFileSync(file, 'utf8')), file);
  if (!r.ir) throw new Error(JSON.stringify(r.diagnostics));
  return r.ir;
}
const CAL_FILE = path.join(import.meta.dirname, '../../definitions/calendars/cn-2025-2027.json');
const cn = loadCalendar(readFileSync(CAL_FILE, 'utf8'), CAL_FILE).calendar as BusinessCalendar;
const cst = (local: string): number => Date.parse(`${local}+08:00`);

const V1 = load('v1');
const V2 = load('v2');
const p1 = compileProcedure(V1);
const p2 = compileProcedure(V2);
const staff = { id: 'sam', roles: ['project_staff'] };
const qm = { id: 'quin', roles: ['quality_manager'] };
const HOUR = 3_600_000;

/** A 1.0.0 instance started at t0, submitted at t0 + 1 s, and checked at t0 + 2 s if `checked`. */
function v1(t0: number, checked: boolean): InstanceState {
  let s = startInstance(p1, { client: 'acme' }, staff, t0).state;
  s = applyEvent(p1, s, { type: 'SUBMIT', actor: staff }, t0 + 1000).state;
  if (checked) s = applyEvent(p1, s, { type: 'CHECK', actor: qm }, t0 + 2000).state;
  return s;
}

/** The migrated state of `s` at `now` (the plan the `migrate` update makes). */
function migrated(s: InstanceState, now: number, to: ProcedureIR = V2): InstanceState {
  const planned = planMigration(V1, to, s, now, () => undefined);
  expect(planned.plan.class).toBe('moves');
  return planned.state!;
}

const brief = (list: { kind: string; state: string; at: number }[], t0: number) =>
  list.map((d) => `${d.kind} ${d.state} +${(d.at - t0) / 1000}s`);

describe('the deadlines a migration sets off', () => {
  const t0 = Date.parse('2026-05-11T01:00:00Z');

  it('counts a compound parent’s points from the parent’s entry, its leaf’s from the leaf’s', () => {
    const now = t0 + 10_000;
    const state = migrated(v1(t0, true), now);
    expect(state.enteredAt).toMatchObject({ review: t0 + 1000, 'review.checking': t0 + 2000 });
    const d = migrationDeadlines(p2, state, new Set(), now, HOUR);
    expect(brief(d.atOnce, t0)).toEqual([
      'remind review.checking +3s',
      'remind review +3s',
      'due review.checking +5s',
    ]);
    expect(d.atOnce[1]).toMatchObject({
      key: `review@${t0 + 1000}/remind/0`,
      since: t0 + 1000,
      delay: 'PT2S',
      to: 'quality_manager',
    });
    expect(d.atOnce[0]).toMatchObject({ key: `review.checking@${t0 + 2000}/remind/0`, delay: 'PT1S' });
    expect(d.atOnce[0]).not.toHaveProperty('to');
    // Within the hour: the 30-minute timeout of checking, and review's escalation (entry + 1 h).
    expect(brief(d.soon, t0)).toEqual(['after review.checking +1802s', 'escalate review +3601s']);
    expect(d.soon[1]).toMatchObject({ level: 1, to: 'quality_manager', delay: 'PT1H' });
    // A shorter horizon leaves the escalation out; nothing is due before the checking timeout.
    expect(brief(migrationDeadlines(p2, state, new Set(), now, 30 * 60_000).soon, t0)).toEqual([
      'after review.checking +1802s',
    ]);
  });

  it('leaves out the points already sent (their `$sla` records keep their key)', () => {
    const now = t0 + 10_000;
    const state = migrated(v1(t0, true), now);
    const d = migrationDeadlines(p2, state, new Set([`review@${t0 + 1000}/remind/0`]), now, HOUR);
    expect(brief(d.atOnce, t0)).toEqual(['remind review.checking +3s', 'due review.checking +5s']);
  });

  it('says where an `after:` timer already due takes the instance', () => {
    const now = t0 + 10_000;
    const d = migrationDeadlines(p2, migrated(v1(t0, false), now), new Set(), now, HOUR);
    expect(brief(d.atOnce, t0)).toEqual(['after review.pending +3s', 'remind review +3s']);
    expect(d.atOnce[0]).toMatchObject({ delay: 'PT2S', since: t0 + 1000, moves: ['review.checking'] });
    expect(brief(d.soon, t0)).toEqual(['escalate review +3601s']);
  });

  it('says nothing fires before the deadlines pass, and what falls due soon', () => {
    const now = t0 + 1500;
    const d = migrationDeadlines(p2, migrated(v1(t0, false), now), new Set(), now, HOUR);
    expect(d.atOnce).toEqual([]);
    expect(brief(d.soon, t0)).toEqual([
      'after review.pending +3s',
      'remind review +3s',
      'escalate review +3601s',
    ]);
    expect(d.soon[0]).not.toHaveProperty('moves');
  });

  it('finds the due time the workflow sets (`CustodiaDueAt`, with or without a calendar)', () => {
    const now = t0 + 10_000;
    const state = migrated(v1(t0, true), now);
    const due = migrationDeadlines(p2, state, new Set(), now, HOUR).atOnce.filter((d) => d.kind === 'due');
    expect(due.map((d) => d.at)).toEqual([slaDueAt(p2, state, cn)]);
    expect(slaDueTimes(p2, state).map((d) => d.at)).toEqual([describeInstance(p2, state, now).dueAt]);
  });

  it('counts instances and deadlines per kind', () => {
    const now = t0 + 10_000;
    const a = migrationDeadlines(p2, migrated(v1(t0, true), now), new Set(), now, HOUR);
    const b = migrationDeadlines(p2, migrated(v1(t0, false), now), new Set(), now, HOUR);
    expect(countDeadlines([a.atOnce, b.atOnce, []])).toEqual({
      instances: 2,
      due: 1,
      remind: 3,
      escalate: 0,
      after: 1,
    });
    expect(countDeadlines([a.soon, b.soon])).toMatchObject({ instances: 2, escalate: 2, after: 1 });
  });
});

describe('working days (the instance’s business calendar)', () => {
  // Escalate one working day after review's entry. Entered Friday 10:00 (Shanghai); the migration
  // runs on Sunday at noon: a day has passed, a working day has not (it ends Monday 10:00).
  const V2WD = load('v2', (t) => t.replace('after: PT1H', 'after: P1WD'));
  const p2wd: CompiledProcedure = compileProcedure(V2WD);
  const t0 = cst('2026-03-06T09:59:59');
  const now = cst('2026-03-08T12:00:00');

  it('counts the escalation in working days: not at once, due Monday, within a day', () => {
    const state = migrated(v1(t0, true), now, V2WD);
    const d = migrationDeadlines(p2wd, state, new Set(), now, 24 * HOUR, cn);
    expect(d.atOnce.map((x) => x.kind)).toEqual(['remind', 'remind', 'due', 'after']);
    expect(d.atOnce.find((x) => x.kind === 'after')).toMatchObject({ moves: ['done'] });
    expect(d.soon).toEqual([
      expect.objectContaining({ kind: 'escalate', state: 'review', at: cst('2026-03-09T10:00:00') }),
    ]);
    // Within an hour only what is already past.
    expect(migrationDeadlines(p2wd, state, new Set(), now, HOUR, cn).soon).toEqual([]);
  });

  it('without a calendar the working-day escalation is never armed (as in the workflow)', () => {
    const state = migrated(v1(t0, true), now, V2WD);
    const d = migrationDeadlines(p2wd, state, new Set(), now, 30 * 24 * HOUR);
    expect([...d.atOnce, ...d.soon].some((x) => x.kind === 'escalate')).toBe(false);
  });
});

describe('an `after:` delay in working days new to a state (patch migration-working-day-timers)', () => {
  // review.pending moves on after one working day. Entered Friday 10:00 (Shanghai), migrated Sunday noon.
  const V2WD = load('v2', (t) => t.replace('delay: PT2S', 'delay: P1WD'));
  const p2wd = compileProcedure(V2WD);
  const t0 = cst('2026-03-06T09:59:59');
  const now = cst('2026-03-08T12:00:00');
  const plan = (timing: Parameters<typeof planMigration>[6]) =>
    planMigration(V1, V2WD, v1(t0, false), now, () => undefined, [], timing).state!;

  it('is due one working day after the entry, in the instance’s calendar: not at once', () => {
    const state = plan({ workingDayTimers: { calendar: cn } });
    expect(state.timers).toEqual([expect.objectContaining({ dueAt: cst('2026-03-09T10:00:00') })]);
    const d = migrationDeadlines(p2wd, state, new Set(), now, 24 * HOUR, cn);
    expect(d.atOnce.map((x) => x.kind)).toEqual(['remind', 'escalate']);
    expect(d.soon).toEqual([
      expect.objectContaining({
        kind: 'after',
        state: 'review.pending',
        delay: 'P1WD',
        at: cst('2026-03-09T10:00:00'),
      }),
    ]);
  });

  it('counts n days without a calendar, as a timer raised on entry does', () => {
    expect(plan({ workingDayTimers: {} }).timers[0]?.dueAt).toBe(cst('2026-03-07T10:00:00'));
  });

  it('was due at the entry before the patch (histories recorded then keep it)', () => {
    expect(plan({}).timers[0]?.dueAt).toBe(cst('2026-03-06T10:00:00'));
  });
});

describe('the dry run’s horizon (`within`)', () => {
  it('takes ISO-8601 durations up to 30 days', () => {
    expect(parseHorizon('PT1H')).toBe(HOUR);
    expect(parseHorizon('P30D')).toBe(30 * 24 * HOUR);
    expect(parseHorizon('P31D')).toBeUndefined();
    expect(parseHorizon('P1WD')).toBeUndefined();
    expect(parseHorizon('an hour')).toBeUndefined();
  });

  it('is declared in the dry run’s body, so the OpenAPI document lists it', () => {
    const doc = openApiDocument() as {
      paths: Record<string, { post?: { requestBody?: { content: Record<string, { schema: unknown }> } } }>;
    };
    const schema = doc.paths['/api/definitions/{id}/migrations/dry-run']?.post?.requestBody?.content[
      'application/json'
    ]?.schema as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties).sort()).toEqual(['to', 'within', 'workflowIds']);
  });
});
