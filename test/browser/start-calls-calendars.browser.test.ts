/**
 * Three pages in Chromium against the real stack (one stack for the file):
 * - the start form: only a definition's input fields are offered (`input: true` or required; a
 *   field the procedure sets itself is not), it starts an instance with what was typed, and a user
 *   without a `start.roles` role sees why and no Start button (`test/fixtures/start-form`);
 * - the called-instances list of an instance page (`call:`): the called instance with its calling
 *   state and status — running, then ended with its outcome — and a link to it
 *   (`test/fixtures/call`);
 * - the Calendars page: an admin edits a new version; a malformed line is refused with its line and
 *   column (validate, and save: nothing stored); the fixed text is saved as version 1 with the new
 *   holiday counted.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { getSnapshot } from '../../worker/instances.ts';
import { loadDeployedDefinitions } from '../../worker/process.ts';
import { eventually } from '../integration/harness.ts';
import { CLIENT, send, start } from './actors.ts';
import { startStack, textOf, type Stack } from './stack.ts';

/** An administrator who is also the errand clerk, the loan officer and the credit analyst. */
const ADA = {
  id: 'ada',
  displayName: 'Ada',
  roles: ['admin', 'clerk', 'officer', 'analyst'],
  clients: [CLIENT],
} as const;
/** A manager: closes errands, may not start one. */
const MO = { id: 'mo', displayName: 'Mo', roles: ['manager'], clients: [CLIENT] } as const;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    definitions: loadDeployedDefinitions(
      ['start-form/errand.yaml', 'call/loan_application.yaml', 'call/credit_check.yaml'].map((f) =>
        path.join(REPO_ROOT, 'test/fixtures', f),
      ),
    ),
    users: [ADA, MO],
  });
});
afterAll(async () => {
  await stack?.close();
  expect(stack?.serverErrors ?? []).toEqual([]);
});

describe('the start form', () => {
  it('offers only the input fields and starts an instance with them', async () => {
    const page = await stack.open(ADA.id, 'en');
    await page.goto('/start?procedure=errand');
    const form = page.locator('.start-form');
    await expect.poll(() => textOf(form.locator('h2'))).toBe('Errand');
    // client (required) and purpose (input: true) are offered; closed_by (set by CLOSE) is not.
    const fields = form.locator('form').locator('input[name], select[name], textarea[name]');
    expect(await fields.evaluateAll((els) => els.map((e) => e.getAttribute('name')))).toEqual([
      'client',
      'purpose',
    ]);
    expect(await form.getByLabel('Closed by').count()).toBe(0);
    // The optional one is folded under "More fields".
    await form.getByText('More fields (1)').click();
    await form.getByLabel('Purpose').fill('post the contract');
    await form.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/\/instances\/errand-/);
    const workflowId = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1)!);
    const snapshot = await getSnapshot(stack.client, workflowId);
    expect(snapshot.context).toMatchObject({ client: CLIENT, purpose: 'post the contract' });
    expect(snapshot.context).not.toHaveProperty('closed_by');
  });

  it('shows a user without a start role who may start it, and no Start button', async () => {
    const page = await stack.open(MO.id, 'en');
    await page.goto('/start?procedure=errand');
    await expect
      .poll(() => textOf(page.getByTestId('start-not-allowed')))
      .toBe('Only these roles may start this procedure: Clerk.');
    expect(await page.locator('.start-form form').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Start', exact: true }).count()).toBe(0);
  });
});

describe('the called instances of an instance page', () => {
  it('lists the called instance with its state and status, running then ended, linked', async () => {
    const loan = await start(stack, 'loan_application', ADA, { applicant: 'Zoe', amount: 5000 });
    const called = await eventually(async () => (await getSnapshot(stack.client, loan)).calls?.[0], 30_000);
    const page = await stack.open(ADA.id, 'en');
    await page.goto(`/instances/${encodeURIComponent(loan)}`);
    const list = page.getByRole('list', { name: 'Called instances' });
    const item = list.locator(`li:has(a:text-is("${called.workflowId}"))`);
    await expect.poll(() => item.getAttribute('data-call-status')).toBe('running');
    expect(await textOf(item)).toMatch(/^Called in checking: Credit check .+ running$/);

    await send(stack, called.workflowId, ADA, 'APPROVE', { grade: 'b' });
    await eventually(async () => (await getSnapshot(stack.client, loan)).leaves?.[0] === 'offer', 30_000);
    await page.reload();
    await expect.poll(() => item.getAttribute('data-call-status')).toBe('done');
    expect(await textOf(item.locator('.badge'))).toBe('ended · approved');

    await item.getByRole('link', { name: called.workflowId }).click();
    await page.waitForURL(`**/instances/${encodeURIComponent(called.workflowId)}`);
    await expect.poll(() => textOf(page.locator('.state-block .state-pill-active'))).toBe('Approved');
  });
});

describe('the Calendars page', () => {
  it('refuses a malformed line with its line and column, then saves the fixed text as version 1', async () => {
    const page = await stack.open(ADA.id, 'en');
    await page.goto('/calendars');
    await expect.poll(() => textOf(page.locator('h2').first())).toMatch(/^Current version 0/);
    const row2026 = page.locator('tr', { has: page.locator('td:first-child', { hasText: /^2026$/ }) });
    const holidays2026 = Number((await row2026.locator('td').nth(1).innerText()).split('\n')[0]);
    expect(holidays2026).toBeGreaterThan(0);

    await page.getByRole('button', { name: 'Edit a new version' }).click();
    const editor = page.getByTestId('calendar-text');
    const lines = (await editor.inputValue()).split('\n');
    const at = lines.findIndex((l) => l.includes('"holidays": [')) + 1; // the new line's index
    const withLine = (line: string): string => [...lines.slice(0, at), line, ...lines.slice(at)].join('\n');
    const bad = '    { "name": "Founders day", "from": "2026-12-32", "to": "2026-12-28" },';
    await editor.fill(withLine(bad));
    await page.getByRole('button', { name: 'Validate' }).click();
    const diagnostics = page.getByTestId('calendar-diagnostics');
    const column = bad.indexOf('"2026-12-32"') + 1;
    await expect
      .poll(() => textOf(diagnostics))
      .toBe(`${at + 1}:${column} CAL_BAD_DATE "2026-12-32" is not a date`);

    // Saving the same text is refused the same way; nothing is stored.
    await page.getByRole('button', { name: 'Save as a new version' }).click();
    await expect.poll(() => textOf(diagnostics)).toContain(`${at + 1}:${column} CAL_BAD_DATE`);
    expect(await stack.store.calendarVersion(1)).toBeUndefined();

    await editor.fill(withLine('    { "name": "Founders day", "from": "2026-12-28", "to": "2026-12-28" },'));
    await page.getByRole('button', { name: 'Validate' }).click();
    await expect.poll(() => textOf(diagnostics)).toBe('No problems: the calendar is valid');
    await page.getByRole('button', { name: 'Save as a new version' }).click();
    await expect.poll(() => textOf(page.getByRole('status'))).toContain('Saved as version 1.');
    await expect.poll(() => textOf(page.locator('h2').first())).toBe('Current version 1');
    await expect
      .poll(async () => Number((await row2026.locator('td').nth(1).innerText()).split('\n')[0]))
      .toBe(holidays2026 + 1);
    expect(await stack.store.calendarVersion(1)).toMatchObject({ createdBy: ADA.id });
  });
});
