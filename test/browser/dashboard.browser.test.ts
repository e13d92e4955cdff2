/**
 * The manager's dashboard in the browser: a scenario of four instances of a small review procedure
 * (`test/fixtures/dashboard-review.yaml`) — three for acme, one for globex, one of acme's accepted
 * by a reviewer — and the dashboard shows exactly those counts; a click on a bar opens the instance
 * list filtered to those instances (by procedure and state, and by the workflow ids behind the
 * workload bar of a person). Who may open it, client isolation and bad filters on the API.
 * Screenshots (en + zh): the dashboard.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { REPO_ROOT } from '../../worker/config.ts';
import { loadDeployedDefinitions } from '../../worker/process.ts';
import { ADMIN, LI, send, start, SUN } from './actors.ts';
import { shotBoth, startStack, textOf, type Lang, type Stack } from './stack.ts';

const RITA = { id: 'rita', displayName: 'Rita Reviewer', roles: ['reviewer'], clients: ['acme', 'globex'] };
const PROCEDURE = 'dash_review';
const BAR_COLOUR = '#2f6fb0';
const PERSON_COLOUR = '#d68910';

let stack: Stack;
const ids: { submitted: string[]; accepted: string; globex: string } = {
  submitted: [],
  accepted: '',
  globex: '',
};

beforeAll(async () => {
  const definitions = loadDeployedDefinitions([path.join(REPO_ROOT, 'test/fixtures/dashboard-review.yaml')]);
  stack = await startStack({ definitions, users: [SUN, LI, ADMIN, RITA] });
  ids.submitted.push(await start(stack, PROCEDURE, ADMIN), await start(stack, PROCEDURE, ADMIN));
  ids.accepted = await start(stack, PROCEDURE, ADMIN);
  await send(stack, ids.accepted, RITA, 'ACCEPT');
  ids.globex = await start(stack, PROCEDURE, SUN, { client: 'globex' });
  ids.submitted.push(ids.globex);
  // Every transition committed to the records store (the dashboard's only source).
  for (let i = 0; (await stack.store.audit({ kind: 'transition' })).length < 5; i++) {
    if (i > 300) throw new Error('the five transitions never reached the records store');
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  await stack?.close();
  expect(stack?.serverErrors ?? []).toEqual([]);
});

/**
 * The bars of one colour in a chart, top to bottom (horizontal bar charts list categories downwards),
 * once at least `least` of them are drawn and they stand still. A chart drawn again (a language
 * switch) starts its bars at no width and grows them: two equal readings of none are not the chart.
 */
async function barsOf(page: Page, chart: string, colour: string, least = 1) {
  const bars = page.locator(`[data-chart="${chart}"] svg path[fill="${colour}"]`);
  await bars.first().waitFor();
  // Mouse clicks land in the viewport only.
  await page.locator(`[data-chart="${chart}"]`).scrollIntoViewIfNeeded();
  const read = async () =>
    JSON.stringify(
      (
        await bars.evaluateAll((els) =>
          els.map((e) => {
            const r = e.getBoundingClientRect();
            return { x: r.x, y: r.y, width: r.width, height: r.height };
          }),
        )
      )
        .filter((b) => b.width > 1)
        .sort((a, b) => a.y - b.y),
    );
  // A chart lays out again after a language switch or a resize: wait until the bars stand still.
  const drawn = (text: string): number => (JSON.parse(text) as unknown[]).length;
  let before = await read();
  for (let i = 0; i < 100; i++) {
    await page.waitForTimeout(150);
    const now = await read();
    if (now === before && drawn(now) >= least) break;
    before = now;
  }
  const boxes = JSON.parse(before) as { x: number; y: number; width: number; height: number }[];
  if (boxes.length < least)
    throw new Error(`${chart}: ${boxes.length} bar(s) of ${colour} drawn, expected at least ${least}`);
  return boxes;
}

/** The text an SVG chart draws (labels, axis names). */
const svgText = (page: Page, chart: string): Promise<string> =>
  page.locator(`[data-chart="${chart}"] svg`).evaluate((el) => el.textContent ?? '');

/**
 * Clicks the `index`-th bar (top to bottom) of one colour in a chart and waits for the page to
 * navigate to `url`. A chart may still lay itself out again after its bars stood still (a late
 * label, a resize); if the click has not navigated within a few seconds, the bars are read again
 * and clicked again — a click that navigates elsewhere fails at once.
 */
async function clickBar(page: Page, chart: string, colour: string, index: number, url: RegExp) {
  const from = page.url();
  for (let attempt = 1; ; attempt++) {
    const box = (await barsOf(page, chart, colour, index + 1))[index]!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    try {
      await page.waitForURL((u) => u.toString() !== from, { timeout: 5_000 });
    } catch (err) {
      if (attempt < 3) continue;
      throw err;
    }
    expect(page.url()).toMatch(url);
    return;
  }
}

describe('the manager’s dashboard in the browser', () => {
  it('shows the counts a scenario created, and a click on a bar opens those instances', async () => {
    const sun = await stack.open(SUN.id);
    await sun.getByRole('link', { name: 'Dashboard', exact: true }).click();
    await sun.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const open = sun.locator('[data-chart="open"]');
    await expect.poll(() => textOf(open.locator('figcaption'))).toContain('4 in all');
    // Categories top to bottom: Checking (1), Submitted (3) — with their counts as bar labels.
    const labels = await svgText(sun, 'open');
    expect(labels).toContain('Dashboard test: review · Checking');
    expect(labels).toContain('Dashboard test: review · Submitted');
    const bars = await barsOf(sun, 'open', BAR_COLOUR);
    expect(bars).toHaveLength(2);
    expect(bars[1]!.width / bars[0]!.width).toBeCloseTo(3, 0);
    // Workload: all four await the reviewer; rita took one step, the admin started three, sun one.
    expect(await svgText(sun, 'awaiting')).toContain('Reviewer');
    const people = await svgText(sun, 'person');
    expect(people).toContain('Rita Reviewer');
    expect(people).toContain('Ada Admin');

    await shotBoth(sun, 'dashboard', (lang: Lang) =>
      sun.getByRole('heading', { name: lang === 'en' ? 'Dashboard' : '仪表板' }).waitFor(),
    );

    // The Submitted bar opens the three submitted instances in the instance list.
    await clickBar(sun, 'open', BAR_COLOUR, 1, /\/instances\?procedure=dash_review&state=submitted$/);
    const table = sun.getByRole('table', { name: 'Instances' });
    await expect
      .poll(async () => (await table.locator('tbody tr').allInnerTexts()).map((t) => t.split(/\s/)).flat())
      .toEqual(expect.arrayContaining(ids.submitted));
    expect(await table.locator('tbody tr').count()).toBe(3);

    // Rita's workload bar opens the one instance she acted in (by workflow id).
    await sun.goBack();
    await sun.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const person = await barsOf(sun, 'person', PERSON_COLOUR);
    // Sorted by steps (admin 3, rita 1, sun 1 → rita before sun by id).
    expect(person).toHaveLength(3);
    await clickBar(sun, 'person', PERSON_COLOUR, 1, /\/instances\?all=true&ids=/);
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    expect(await textOf(table.locator('tbody tr'))).toContain(ids.accepted);
    expect(await textOf(sun.getByTestId('ids-filter'))).toContain('1 instance');
  });

  it('a render that changes nothing a chart shows leaves the chart as drawn', async () => {
    const sun = await stack.open(SUN.id);
    await sun.goto(`${stack.url}/dashboard`);
    await expect.poll(() => textOf(sun.locator('[data-chart="open"] figcaption'))).toContain('4 in all');
    // Everything the charts name has arrived: state names, role and person names.
    await expect.poll(() => svgText(sun, 'open')).toContain('Dashboard test: review · Submitted');
    await expect.poll(() => svgText(sun, 'awaiting')).toContain('Reviewer');
    await expect.poll(() => svgText(sun, 'person')).toContain('Rita Reviewer');
    await barsOf(sun, 'open', BAR_COLOUR);
    // Mark the drawn bars; editing the (not yet applied) filter form renders the page again.
    const marked = (): Promise<number> => sun.locator('[data-chart] svg path[data-drawn]').count();
    await sun
      .locator('[data-chart] svg path')
      .evaluateAll((els) => els.forEach((e) => e.setAttribute('data-drawn', '')));
    const drawn = await marked();
    expect(drawn).toBeGreaterThan(5);
    const procedure = sun.getByRole('combobox', { name: 'Procedure' });
    await procedure.selectOption(PROCEDURE);
    await procedure.selectOption('');
    await sun.waitForTimeout(300);
    expect(await marked()).toBe(drawn);
  });

  it('a client filter narrows the figures; others see only their clients, staff none at all', async () => {
    const sun = await stack.open(SUN.id);
    await sun.goto(`${stack.url}/dashboard?client=globex`);
    await expect.poll(() => textOf(sun.locator('[data-chart="open"] figcaption'))).toContain('1 in all');

    // The admin is assigned to acme only: three of the four, and globex is no client to them.
    const admin = await stack.open(ADMIN.id);
    await admin.getByRole('link', { name: 'Dashboard', exact: true }).waitFor();
    const mine = await admin.request.get(`${stack.url}/api/dashboard`);
    expect(mine.status()).toBe(200);
    const body = (await mine.json()) as { openByState: { state: string; count: number }[] };
    expect(body.openByState).toEqual([
      { procedure: PROCEDURE, state: 'review.checking', count: 1 },
      { procedure: PROCEDURE, state: 'submitted', count: 2 },
    ]);
    expect((await admin.request.get(`${stack.url}/api/dashboard?client=globex`)).status()).toBe(404);
    const bad = [
      '?from=2026-03-10&to=2026-03-01',
      '?from=2020-01-01',
      '?from=yesterday',
      '?procedure=no_such_procedure',
      '?colour=red',
    ];
    for (const q of bad) {
      const r = await admin.request.get(`${stack.url}/api/dashboard${q}`);
      expect([400, 404], q).toContain(r.status());
    }
    expect((await admin.request.get(`${stack.url}/api/dashboard/instances?chart=overdue`)).status()).toBe(
      400,
    );

    // Project staff: no entry in the navigation, and the API refuses.
    const li = await stack.open(LI.id);
    await li.getByRole('link', { name: 'Inbox', exact: true }).waitFor();
    expect(await li.getByRole('link', { name: 'Dashboard', exact: true }).count()).toBe(0);
    const refused = await li.request.get(`${stack.url}/api/dashboard`);
    expect(refused.status()).toBe(403);
  });
});
