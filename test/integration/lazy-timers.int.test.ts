/**
 * One wake for the delayed transitions (patch `lazy-timers`, workflows/timers.ts), on the real dev
 * server: a state with an `after:` left and entered again keeps the wake it has (no timer cancelled,
 * none started per entry), and its transition fires at the due time of the last entry — not at the
 * first wake, which finds nothing due and waits on. A run that would close while a wake left behind
 * is due within `WAKE_END_MARGIN_MS` closes when it has fired, its event answered at once, and no
 * workflow task fails. The review loop of the benchmark (test/bench/bench-review.yaml) starts its
 * P2D timer once in ten rounds instead of ten times, and cancels none. (The search attributes'
 * burst-window timers, which a run's end cancels, are told apart by their length and left out.)
 */
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { snapshotQuery } from '../../workflows/api.ts';
import { WAKE_END_MARGIN_MS } from '../../workflows/timers.ts';
import {
  eventually,
  historyEvents,
  sendEvent,
  startHarness,
  type Harness,
  type HistoryEvent,
} from './harness.ts';
import { recordHistory } from './record-history.ts';

const staff = { id: 'tess', roles: ['project_staff'] };
const manager = { id: 'quinn', roles: ['quality_manager'] };
const GO = { type: 'GO', actor: staff };
const BACK = { type: 'BACK', actor: staff };
const FINISH = { type: 'FINISH', actor: staff };
/** The `waiting` state's delay (test/fixtures/timers/timer-loop.yaml). */
const DELAY_MS = 3_000;

let h: Harness;
beforeAll(async () => {
  h = await startHarness([path.join(REPO_ROOT, 'test/fixtures/timers'), path.join(REPO_ROOT, 'test/bench')]);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** The instance's history; a timer's events marked when it coalesces search attributes (not the delays' own). */
const events = (id: string): Promise<HistoryEvent[]> => historyEvents(h.client, id);

/** The delayed transitions' own timer events (a burst window's left out). */
const ownTimers = (all: HistoryEvent[], type: string): HistoryEvent[] =>
  all.filter((e) => e.type === type && !e.coalescing);

const snapshot = (id: string) => h.client.workflow.getHandle(id).query(snapshotQuery);

describe('one wake for the delayed transitions', () => {
  it('a state entered again fires at its last entry’s due time, with no timer cancelled', async () => {
    const id = await h.start('timer_loop', { client: 'acme' }, staff);
    await sendEvent(h.client, id, GO);
    const firstDue = Date.parse((await snapshot(id)).timers[0]!.dueAt);
    await sendEvent(h.client, id, BACK);
    await delay(2_000);
    await sendEvent(h.client, id, GO);
    const due = Date.parse((await snapshot(id)).timers[0]!.dueAt);
    const enteredAgain = Date.now();
    expect(due - firstDue).toBeGreaterThanOrEqual(2_000);

    // The wake of the first entry (the only timer of the delay's length) has fired and found
    // nothing due: the state waits on for the second entry's deadline.
    const wakeFired = async (): Promise<boolean> => {
      const history = await h.client.workflow.getHandle(id).fetchHistory();
      const events = history.events ?? [];
      const wake = events.find((e) => {
        const seconds = Number(e.timerStartedEventAttributes?.startToFireTimeout?.seconds ?? 0);
        return seconds >= DELAY_MS / 1000 - 1 && seconds <= DELAY_MS / 1000;
      });
      const timerId = wake?.timerStartedEventAttributes?.timerId;
      return events.some((e) => timerId && e.timerFiredEventAttributes?.timerId === timerId);
    };
    await eventually(wakeFired, 10_000);
    const meanwhile = await snapshot(id);
    expect(Date.now()).toBeLessThan(due);
    expect(meanwhile.state).toBe('waiting');
    expect(Date.parse(meanwhile.timers[0]!.dueAt)).toBe(due);

    await h.client.workflow.getHandle(id).result();
    const done = await snapshot(id);
    expect(done.state).toBe('expired');
    const fired = done.log.at(-1)!;
    expect(fired).toMatchObject({ actor: { id: 'timer' }, from: ['waiting'], to: ['expired'] });
    // Not before the due time of the last entry (the workflow's clock: the firing task's time).
    expect(Date.parse(fired.at)).toBeGreaterThanOrEqual(due);
    expect(Date.now() - enteredAgain).toBeGreaterThanOrEqual(DELAY_MS - 500);

    const all = await events(id);
    expect(ownTimers(all, 'TIMER_CANCELED')).toEqual([]);
    // The delay's own timer once (the first entry); the second wake is the rest of the delay
    // (the coalescing timers are left out).
    expect(ownTimers(all, 'TIMER_STARTED').filter((e) => e.timeoutMs! >= DELAY_MS - 100)).toHaveLength(1);
    expect(all.filter((e) => e.type === 'WORKFLOW_TASK_FAILED')).toEqual([]);
    await recordHistory(h.client, id, 'lazy-timers-entered-again');
  });

  it('a run that ends while a wake left behind is due soon closes once it fired', async () => {
    const id = await h.start('timer_loop', { client: 'acme' }, staff);
    await sendEvent(h.client, id, GO);
    const wakeAt = Date.parse((await snapshot(id)).timers[0]!.dueAt);
    await sendEvent(h.client, id, BACK);
    // Within the margin of the wake's time: the closing task must not race its firing.
    await delay(DELAY_MS - WAKE_END_MARGIN_MS + 500);
    const t = Date.now();
    const result = await sendEvent(h.client, id, FINISH);
    expect(result.done).toBe(true);
    expect(Date.now() - t).toBeLessThan(1_000);
    await h.client.workflow.getHandle(id).result();

    const all = await events(id);
    const fired = all.findIndex((e) => e.type === 'TIMER_FIRED' && !e.coalescing);
    const completed = all.findIndex((e) => e.type === 'WORKFLOW_EXECUTION_COMPLETED');
    expect(fired).toBeGreaterThan(-1);
    expect(fired).toBeLessThan(completed);
    expect(all[completed]!.at).toBeGreaterThanOrEqual(wakeAt - 50);
    expect(all.filter((e) => e.type === 'WORKFLOW_TASK_FAILED')).toEqual([]);
    // The wake found nothing due: the last record is the person's event.
    expect((await snapshot(id)).log.at(-1)).toMatchObject({ event: 'FINISH', to: ['finished'] });
    await recordHistory(h.client, id, 'lazy-timers-end-waits-for-wake');
  });

  it('the review loop starts its P2D timer once in ten rounds', async () => {
    const submit = { type: 'SUBMIT', actor: staff, data: { summary: 'the summary' } };
    const back = { type: 'RETURN', actor: manager, data: { comment: 'again' } };
    const id = await h.start('bench_review', { client: 'acme' }, staff);
    for (let k = 0; k < 10; k++) {
      await sendEvent(h.client, id, submit);
      await sendEvent(h.client, id, back);
    }
    await sendEvent(h.client, id, submit);
    expect((await sendEvent(h.client, id, { type: 'APPROVE', actor: manager })).done).toBe(true);
    await h.client.workflow.getHandle(id).result();
    const all = await events(id);
    const twoDays = 2 * 86_400_000;
    expect(all.filter((e) => e.type === 'TIMER_STARTED' && e.timeoutMs! > twoDays - 60_000)).toHaveLength(1);
    expect(ownTimers(all, 'TIMER_CANCELED')).toEqual([]);
    expect(all.filter((e) => e.type === 'WORKFLOW_TASK_FAILED')).toEqual([]);
    await recordHistory(h.client, id, 'lazy-timers-review-loop');
  });
});
