/**
 * Assignment in the browser (issue #12, items 4–5), on the assignment test procedure
 * (`test/fixtures/assignment/review.yaml`: submitted → APPROVE by a reviewer, not the submitter):
 *
 * - a manager bulk-reassigns 50 stalled instances from the stalled view: preview, run, a result
 *   for each instance;
 * - a reviewer claims a request from *my roles — unassigned* and approves it;
 * - a manager reassigns a stalled instance to another reviewer from the instance page, who then
 *   sees it in *assigned to me*.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { getSnapshot } from '../../worker/instances.ts';
import { loadDeployedDefinitions } from '../../worker/process.ts';
import { send, start } from './actors.ts';
import { startStack, textOf, type Stack } from './stack.ts';

const ALICE = {
  id: 'alice',
  displayName: 'Alice Staff',
  roles: ['project_staff'],
  clients: ['acme'],
} as const;
const RITA = { id: 'rita', displayName: 'Rita Reviewer', roles: ['reviewer'], clients: ['acme'] } as const;
const REMY = { id: 'remy', displayName: 'Remy Reviewer', roles: ['reviewer'], clients: ['acme'] } as const;
const BOB = { id: 'bob', displayName: 'Bob Manager', roles: ['quality_manager'], clients: [] } as const;

let stack: Stack;

beforeAll(async () => {
  const definitions = loadDeployedDefinitions([path.join(REPO_ROOT, 'test/fixtures/assignment/review.yaml')]);
  stack = await startStack({ definitions, users: [ALICE, RITA, REMY, BOB] });
});

afterAll(async () => {
  await stack?.close();
  expect(stack?.serverErrors ?? []).toEqual([]);
});

async function submitted(): Promise<string> {
  const id = await start(stack, 'assign_review', ALICE, { client: 'acme' });
  await send(stack, id, ALICE, 'SUBMIT');
  return id;
}

describe('assignment in the browser', () => {
  it('a manager bulk-reassigns 50 stalled instances from the stalled view, with a result per instance', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 50; i += 10) ids.push(...(await Promise.all(Array.from({ length: 10 }, submitted))));
    await new Promise((r) => setTimeout(r, 1500)); // idle longer than PT1S

    const bob = await stack.open(BOB.id, 'en');
    await bob.goto(`${stack.url}/stalled?idle=PT1S&procedure=assign_review&state=submitted`);
    const table = bob.getByRole('table', { name: 'Stalled instances' });
    await expect.poll(() => table.getByRole('row').count(), { timeout: 30_000 }).toBe(51);
    await bob.getByRole('checkbox', { name: 'Select all loaded' }).check();
    await expect.poll(() => textOf(bob.getByTestId('bulk-scope'))).toBe('50 selected');
    await bob.getByRole('combobox', { name: 'Assign to' }).fill('rita');
    await bob.getByRole('button', { name: 'Preview' }).click();
    const preview = bob.getByTestId('bulk-preview');
    await expect.poll(() => textOf(preview)).toContain('50 instances will be acted on');
    expect(await preview.getByRole('row').count()).toBe(50);
    expect(await textOf(preview.getByRole('row').first())).toContain('(nobody) → rita');
    await bob.getByRole('button', { name: 'Run (50)' }).click();
    const job = bob.getByTestId('bulk-job');
    await expect.poll(() => job.getAttribute('data-finished'), { timeout: 60_000 }).toBe('true');
    expect(await textOf(job.getByRole('status'))).toContain('50/50 done: 50 succeeded, 0 refused');
    const results = job.getByRole('table', { name: 'Result per instance' }).getByRole('row');
    expect(await results.count()).toBe(50);
    expect(await textOf(results.first())).toMatch(/done.*\(nobody\) → rita/);
    for (const id of [ids[0]!, ids[49]!])
      expect((await getSnapshot(stack.client, id)).assignees).toEqual({ submitted: 'rita' });
    // The view shows who holds them now.
    await expect
      .poll(async () => textOf(table.getByRole('row').filter({ hasText: ids[0]! })), { timeout: 20_000 })
      .toContain('Rita Reviewer');
  });

  it('a reviewer claims a request from "my roles — unassigned" and approves it', async () => {
    const id = await submitted();
    const rita = await stack.open(RITA.id, 'en');
    await rita.getByRole('link', { name: 'Inbox', exact: true }).click();
    await rita.getByRole('tab', { name: /My roles — unassigned/ }).click();
    const row = rita.getByRole('row').filter({ hasText: id });
    await row.waitFor({ timeout: 30_000 });
    // The tab names its count: the rows it lists, each with a Claim button (the 50 of the test
    // before are rita's already, not unassigned; other browser files' instances on the same
    // server may be listed too).
    const tab = rita.getByRole('tab', { name: /My roles — unassigned/ });
    const claimable = rita.getByRole('row').filter({ has: rita.getByRole('button', { name: /Claim/ }) });
    await expect
      .poll(async () => {
        const shown = Number(/(\d+)\s*$/.exec(await textOf(tab))?.[1]);
        return shown >= 1 && shown === (await claimable.count());
      })
      .toBe(true);
    await row.getByRole('button', { name: /Claim/ }).click();
    await rita.waitForURL(new RegExp(`/instances/${id}$`));
    const panel = rita.locator('.assignment[data-state="submitted"]');
    await expect.poll(() => textOf(panel)).toContain('Assigned to Rita Reviewer');
    await rita.locator('[data-event="APPROVE"]').getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => textOf(rita.getByRole('status').first())).toContain('Done');
    const snap = await getSnapshot(stack.client, id);
    expect(snap.leaves).toEqual(['checks.a.pending', 'checks.b.pending']);
    expect(snap.log.map((l) => [l.event, l.actor.id])).toEqual([
      ['$start', 'alice'],
      ['SUBMIT', 'alice'],
      ['$assign', 'rita'],
      ['APPROVE', 'rita'],
    ]);
  });

  it('a manager reassigns a stalled instance to another reviewer, who sees it in "assigned to me"', async () => {
    const id = await submitted();
    const rita = await stack.open(RITA.id, 'en');
    await rita.goto(`${stack.url}/instances/${id}`);
    await rita.locator('.assignment').getByRole('button', { name: 'Claim' }).click();
    await expect.poll(() => textOf(rita.locator('.assignment'))).toContain('Assigned to Rita Reviewer');

    const bob = await stack.open(BOB.id, 'en');
    await bob.goto(`${stack.url}/instances/${id}`);
    const panel = bob.locator('.assignment[data-state="submitted"]');
    await expect.poll(() => textOf(panel)).toContain('Assigned to Rita Reviewer');
    await expect.poll(() => panel.getByRole('option').count()).toBeGreaterThan(1);
    await panel.getByRole('combobox', { name: 'Choose a person' }).selectOption('remy');
    await panel.getByRole('button', { name: 'Assign to' }).click();
    await expect.poll(() => textOf(panel)).toContain('Assigned to Remy Reviewer');

    const remy = await stack.open(REMY.id, 'en');
    await remy.getByRole('link', { name: 'Inbox', exact: true }).click();
    await remy.getByRole('tab', { name: /Assigned to me/ }).click();
    await remy.getByRole('row').filter({ hasText: id }).waitFor({ timeout: 30_000 });
    expect(await textOf(remy.getByRole('tab', { name: /Assigned to me/ }))).toContain('1');
    // rita no longer may approve it: her page offers nothing.
    await rita.reload();
    await expect.poll(() => textOf(rita.locator('.assignment'))).toContain('Remy Reviewer');
    // The actions card has drawn (so the count below is not read before it) and offers her nothing;
    // `.event-form` because the statechart's edge labels carry data-event too.
    await expect
      .poll(() => textOf(rita.getByRole('heading', { name: 'What I can do' }).locator('..')))
      .toContain('Nothing for your roles to do');
    expect(await rita.locator('.event-form[data-event="APPROVE"]').count()).toBe(0);
  });
});
