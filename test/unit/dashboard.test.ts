/**
 * The dashboard's queries on an in-memory records store: five instances of a small review
 * procedure, written through `store.commit` with known times, and the exact figures each chart
 * must show (worked out by hand in the comments).
 */
import { ASSIGN_EVENT } from '../../workflows/core/assignment.ts';
import { REMIND_EVENT } from '../../workflows/core/reminder.ts';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import type { ProcedureIR } from '../../workflows/core/ir.ts';
import {
  computeDashboard,
  dashboardInstances,
  dashboardModel,
  dashboardPeriod,
  dashboardScope,
  DashboardFilterError,
} from '../../worker/dashboard.ts';
import type { DashboardModel } from '../../worker/dashboard.ts';
import type { RecordsStore, User } from '../../worker/records/types.ts';
import { PERMISSIONS } from '../../worker/access.ts';
import { withMemoryStore } from '../support/records.ts';

const ir = validateProcedureText(
  readFileSync(new URL('../fixtures/dashboard-review.yaml', import.meta.url), 'utf8'),
  'dashboard-review.yaml',
).ir as ProcedureIR;

const DAY = 86_400_000;
const at = (iso: string): string => new Date(iso).toISOString();

/** [seq, time, event, actor, to] per transition; seq 0 is the start. */
type Step = [string, string, string, string[]];
const INSTANCES: { id: string; client: string; steps: Step[] }[] = [
  {
    // Ends 2026-03-04 after 3 days; never late.
    id: 'dash-a',
    client: 'acme',
    steps: [
      ['2026-03-01T00:00Z', '$start', 'pat', ['submitted']],
      ['2026-03-01T12:00Z', 'ACCEPT', 'rita', ['review.checking']],
      ['2026-03-02T00:00Z', 'CHECK', 'rita', ['review.deciding']],
      ['2026-03-03T00:00Z', 'APPROVE', 'rita', ['issuing']],
      ['2026-03-04T00:00Z', 'ISSUE', 'carl', ['done']],
    ],
  },
  {
    // submitted due 03-03, left 03-05 (overdue 03-03..03-05); review entered 03-05, due 03-08,
    // left 03-10 (overdue 03-08..03-10): two breaches; ends 03-10 after 8 days.
    id: 'dash-b',
    client: 'acme',
    steps: [
      ['2026-03-02T00:00Z', '$start', 'pat', ['submitted']],
      ['2026-03-05T00:00Z', 'ACCEPT', 'rita', ['review.checking']],
      ['2026-03-06T00:00Z', 'CHECK', 'sam', ['review.deciding']],
      ['2026-03-10T00:00Z', 'REJECT', 'sam', ['rejected']],
    ],
  },
  {
    // Another client; a timer's self-transition on 03-12 does not restart the clock: due 03-11, still open.
    id: 'dash-c',
    client: 'globex',
    steps: [
      ['2026-03-10T00:00Z', '$start', 'pat', ['submitted']],
      ['2026-03-12T00:00Z', 'after PT1H', 'timer', ['submitted']],
    ],
  },
  {
    // Due 03-19 12:00, open.
    id: 'dash-d',
    client: 'acme',
    steps: [['2026-03-18T12:00Z', '$start', 'pat', ['submitted']]],
  },
  {
    // review entered 03-15 06:00, due 03-18 06:00, open.
    id: 'dash-e',
    client: 'acme',
    steps: [
      ['2026-03-15T00:00Z', '$start', 'pat', ['submitted']],
      ['2026-03-15T06:00Z', 'ACCEPT', 'rita', ['review.checking']],
    ],
  },
];

const NOW = new Date('2026-03-20T00:00Z');
const PERIOD = { from: new Date('2026-03-01T00:00Z'), to: NOW, now: NOW };
const manager: User = {
  id: 'quinn',
  displayName: 'Quinn',
  roles: ['quality_manager'],
  clients: [],
  disabled: false,
  createdAt: at('2026-01-01'),
};
const acmeAdmin: User = { ...manager, id: 'ada', roles: ['admin'], clients: ['acme'] };

let store: RecordsStore;
let model: DashboardModel;
withMemoryStore((s) => ({ store } = s));

beforeAll(async () => {
  model = dashboardModel([ir, ir]);
  for (const inst of INSTANCES) {
    let from: string[] = [];
    for (const [seq, [time, event, actor, to]] of inst.steps.entries()) {
      await store.commit(
        {
          workflowId: inst.id,
          procedure: ir.id,
          version: ir.version,
          hash: 'h',
          client: inst.client,
          record: { seq, at: at(time), event, actor: { id: actor, roles: [] }, from, to, clauses: [] },
          effects: [],
        },
        [],
      );
      from = to;
    }
  }
});

describe('who may open the dashboard', () => {
  it('managers (the roles that see every client), admins and auditors; no one else', () => {
    const holds = (roles: string[]): boolean => PERMISSIONS.dashboard.holds({ ...manager, roles });
    expect(['quality_manager', 'general_manager', 'admin', 'auditor'].map((r) => holds([r]))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(holds(['project_staff', 'reviewer'])).toBe(false);
  });
});

describe('dashboard model', () => {
  it('takes SLAs, final states and awaited roles from the definition, once per version', () => {
    const key = 'dash_review@1.0.0';
    expect([...model.sla.keys()]).toEqual([key]);
    expect([...model.sla.get(key)!]).toEqual([
      ['submitted', DAY],
      ['review', 3 * DAY],
    ]);
    expect([...model.finals.get(key)!]).toEqual(['done', 'rejected']);
    expect([...model.awaits.get(key)!]).toEqual([
      ['submitted', ['reviewer']],
      ['review.checking', ['reviewer']],
      ['review.deciding', ['reviewer']],
      ['issuing', ['clerk']],
      ['done', []],
      ['rejected', []],
    ]);
  });
});

describe('dashboard queries (memory store, known data)', () => {
  it('computes every chart for a manager who sees every client', async () => {
    const d = await computeDashboard(store, dashboardScope(manager, {}, []), model, PERIOD);
    expect(d.openByState).toEqual([
      { procedure: 'dash_review', state: 'review.checking', count: 1 },
      { procedure: 'dash_review', state: 'submitted', count: 2 },
    ]);
    expect(d.awaitingByRole).toEqual([{ role: 'reviewer', count: 3 }]);
    // a: 3 days, b: 8 days → median 5.5 days, p90 3 + 0.9 × 5 = 7.5 days.
    expect(d.cycleTimes).toEqual([
      { procedure: 'dash_review', count: 2, medianMs: 5.5 * DAY, p90Ms: 7.5 * DAY },
    ]);
    // b twice, c, d, e.
    expect(d.breachesByMonth).toEqual([{ month: '2026-03', procedure: 'dash_review', count: 5 }]);
    // Overdue at the end of each day: b 03-03..04 and 03-08..09, c from 03-11, e from 03-18, d 03-19.
    const expected = [0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 2, 3];
    expect(d.overdueByDay).toEqual(
      expected.map((count, i) => ({ day: `2026-03-${String(i + 1).padStart(2, '0')}`, count })),
    );
    expect(d.transitionsByPerson).toEqual([
      { actor: 'pat', transitions: 5, instances: 5 },
      { actor: 'rita', transitions: 5, instances: 3 },
      { actor: 'sam', transitions: 2, instances: 1 },
      { actor: 'carl', transitions: 1, instances: 1 },
    ]);
    expect(Object.keys(d.timings)).toHaveLength(7);
  });

  it('counts only the clients a user is assigned to, and the client and procedure filters', async () => {
    const d = await computeDashboard(
      store,
      dashboardScope(acmeAdmin, {}, ['definition_change']),
      model,
      PERIOD,
    );
    expect(d.openByState).toEqual([
      { procedure: 'dash_review', state: 'review.checking', count: 1 },
      { procedure: 'dash_review', state: 'submitted', count: 1 },
    ]);
    expect(d.breachesByMonth).toEqual([{ month: '2026-03', procedure: 'dash_review', count: 4 }]);
    expect(d.overdueByDay.at(-1)).toEqual({ day: '2026-03-19', count: 2 });
    const globex = await computeDashboard(
      store,
      dashboardScope(manager, { client: 'globex' }, []),
      model,
      PERIOD,
    );
    expect(globex.openByState).toEqual([{ procedure: 'dash_review', state: 'submitted', count: 1 }]);
    expect(globex.transitionsByPerson).toEqual([{ actor: 'pat', transitions: 1, instances: 1 }]);
    const other = await computeDashboard(
      store,
      dashboardScope(manager, { procedure: 'file_access' }, []),
      model,
      PERIOD,
    );
    expect(other.openByState).toEqual([]);
    expect(other.overdueByDay.every((p) => p.count === 0)).toBe(true);
    // Assigned to no client: nothing.
    const none = await computeDashboard(
      store,
      dashboardScope({ ...acmeAdmin, clients: [] }, {}, []),
      model,
      PERIOD,
    );
    expect(none.openByState).toEqual([]);
    expect(none.transitionsByPerson).toEqual([]);
  });

  it('a shorter period counts only what falls in it', async () => {
    const period = { from: new Date('2026-03-05T00:00Z'), to: new Date('2026-03-11T00:00Z'), now: NOW };
    const d = await computeDashboard(store, dashboardScope(manager, {}, []), model, period);
    expect(d.cycleTimes).toEqual([{ procedure: 'dash_review', count: 1, medianMs: 8 * DAY, p90Ms: 8 * DAY }]);
    expect(d.breachesByMonth).toEqual([{ month: '2026-03', procedure: 'dash_review', count: 1 }]);
    expect(d.overdueByDay.map((p) => p.count)).toEqual([0, 0, 0, 1, 1, 0]);
    expect(d.transitionsByPerson).toEqual([
      { actor: 'sam', transitions: 2, instances: 1 },
      { actor: 'pat', transitions: 1, instances: 1 },
      { actor: 'rita', transitions: 1, instances: 1 },
    ]);
  });

  it('lists the instances behind a chart element', async () => {
    const scope = dashboardScope(manager, {}, []);
    const behind = (drill: Parameters<typeof dashboardInstances>[4]) =>
      dashboardInstances(store, scope, model, PERIOD, drill);
    expect(await behind({ chart: 'overdue', day: '2026-03-18' })).toEqual({
      workflowIds: ['dash-e', 'dash-c'],
      total: 2,
    });
    expect(await behind({ chart: 'overdue', day: '2026-03-04' })).toEqual({
      workflowIds: ['dash-b'],
      total: 1,
    });
    expect(await behind({ chart: 'breaches', month: '2026-03' })).toEqual({
      workflowIds: ['dash-d', 'dash-e', 'dash-c', 'dash-b'],
      total: 4,
    });
    expect(await behind({ chart: 'cycle', procedure: 'dash_review' })).toEqual({
      workflowIds: ['dash-b', 'dash-a'],
      total: 2,
    });
    expect(await behind({ chart: 'person', actor: 'rita' })).toEqual({
      workflowIds: ['dash-e', 'dash-b', 'dash-a'],
      total: 3,
    });
    const acme = dashboardScope(acmeAdmin, {}, []);
    expect(
      await dashboardInstances(store, acme, model, PERIOD, { chart: 'overdue', day: '2026-03-18' }),
    ).toEqual({
      workflowIds: ['dash-e'],
      total: 1,
    });
  });

  it('picks up transitions committed after an earlier dashboard (only those are read)', async () => {
    const scope = dashboardScope(manager, {}, []);
    await computeDashboard(store, scope, model, PERIOD);
    // d is accepted: its submitted stay ends (still a breach), review begins.
    await store.commit(
      {
        workflowId: 'dash-d',
        procedure: ir.id,
        version: ir.version,
        hash: 'h',
        client: 'acme',
        record: {
          seq: 1,
          at: at('2026-03-19T18:00Z'),
          event: 'ACCEPT',
          actor: { id: 'rita', roles: [] },
          from: ['submitted'],
          to: ['review.checking'],
          clauses: [],
        },
        effects: [],
      },
      [],
    );
    const d = await computeDashboard(store, scope, model, PERIOD);
    expect(d.openByState).toEqual([
      { procedure: 'dash_review', state: 'review.checking', count: 2 },
      { procedure: 'dash_review', state: 'submitted', count: 1 },
    ]);
    expect(d.breachesByMonth).toEqual([{ month: '2026-03', procedure: 'dash_review', count: 5 }]);
    // d was overdue from 12:00 to 18:00 on 03-19 only: not at the day's end.
    expect(d.overdueByDay.at(-1)).toEqual({ day: '2026-03-19', count: 2 });
    expect(d.transitionsByPerson[0]).toEqual({ actor: 'rita', transitions: 6, instances: 4 });

    // An assignment and a reminder are transition records that change no state: no one's step.
    for (const [seq, event] of [
      [2, ASSIGN_EVENT],
      [3, REMIND_EVENT],
    ] as const)
      await store.commit(
        {
          workflowId: 'dash-d',
          procedure: ir.id,
          version: ir.version,
          hash: 'h',
          client: 'acme',
          record: {
            seq,
            at: at('2026-03-19T19:00Z'),
            event,
            actor: { id: 'rita', roles: [] },
            from: ['review.checking'],
            to: ['review.checking'],
            clauses: [],
          },
          effects: [],
        },
        [],
      );
    const after = await computeDashboard(store, scope, model, PERIOD);
    expect(after.transitionsByPerson[0]).toEqual({ actor: 'rita', transitions: 6, instances: 4 });
    expect(after.openByState).toEqual(d.openByState);
  });

  it('refuses a period it cannot compute', () => {
    expect(() => dashboardPeriod({ from: new Date('2026-03-02'), to: new Date('2026-03-01') }, NOW)).toThrow(
      DashboardFilterError,
    );
    expect(() => dashboardPeriod({ from: new Date('2024-01-01') }, NOW)).toThrow(/at most 366 days/);
    const p = dashboardPeriod({}, NOW);
    expect(p.to.getTime() - p.from.getTime()).toBe(90 * DAY);
  });
});
