/**
 * (c) A manager sees an overdue instance appear in the stalled view.
 *
 * The shipped file_access with its durations shortened to seconds (`shortenTimers`, as the
 * scenario tests do: P1D → 1 s, P2D → 2 s, …): a request is approved and the file issued for one
 * day; the window ends (access revoked) and the Quality Administrator's deadline to recover the file
 * (SLA P1D) passes — the instance is overdue and stays in `revoked` (its only later timer only
 * notifies). The manager, with the stalled view open, sees it appear (the view's Refresh button;
 * it also refreshes itself every 15 s).
 * Screenshots (en + zh): the stalled view.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shortenTimers } from '../scenarios/scenario.ts';
import { LI, send, submittedRequest, SUN, WANG, ZHAO } from './actors.ts';
import { shippedDefinitions, shotBoth, startStack, textOf, type Lang, type Stack } from './stack.ts';

let stack: Stack;

beforeAll(async () => {
  const definitions = shippedDefinitions('file_access', 'violation_case');
  definitions.set('file_access', shortenTimers(definitions.get('file_access')!));
  stack = await startStack({ definitions, users: [LI, ZHAO, WANG, SUN] });
});

afterAll(async () => {
  await stack?.close();
  expect(stack?.serverErrors ?? []).toEqual([]);
});

describe('[3.3.3] stalled and overdue in the browser', () => {
  it('(c) a manager sees an overdue instance appear in the stalled view', async () => {
    const sun = await stack.open(SUN.id);
    await sun.getByRole('link', { name: 'Stalled', exact: true }).click();
    await sun.getByRole('heading', { name: 'Stalled and overdue' }).waitFor();
    const rowOf = (id: string) =>
      sun.getByRole('table', { name: 'Stalled instances' }).getByRole('row').filter({ hasText: id });

    const workflowId = await submittedRequest(stack, LI, {
      file_id: 'F-2026-042',
      purpose: 'prepare the recertification audit',
      window_days: 1,
    });
    await send(stack, workflowId, ZHAO, 'APPROVE', { note: 'ok' });
    await send(stack, workflowId, WANG, 'ISSUE', { copies_issued: 0 });

    // Window over (1 s), then the recovery deadline (1 s more): overdue, awaiting the QA.
    const refresh = sun.getByRole('button', { name: 'Refresh', exact: true });
    await expect
      .poll(
        async () => {
          if (await refresh.isEnabled()) await refresh.click();
          return textOf(rowOf(workflowId));
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toContain('overdue');
    const row = rowOf(workflowId);
    // State names come with the definition, which may load after the row (polled, not read once).
    await expect.poll(() => textOf(row)).toContain('Window ended, awaiting return');
    expect(await textOf(row)).toContain('Quality Administrator');
    expect(await row.getAttribute('class')).toContain('row-overdue');
    // Not returned after the escalation delay (sla escalate, scaled): escalated to the Quality Manager.
    await expect
      .poll(
        async () => {
          if (await refresh.isEnabled()) await refresh.click();
          return textOf(rowOf(workflowId));
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toContain('Escalated, level 1');

    await shotBoth(sun, 'stalled', (lang: Lang) =>
      sun.getByRole('heading', { name: lang === 'en' ? 'Stalled and overdue' : '停滞与逾期' }).waitFor(),
    );

    // The row opens the instance.
    await row.getByRole('link').first().click();
    await sun.waitForURL(new RegExp(`/instances/${workflowId}$`));
    await expect
      .poll(() => textOf(sun.locator('.state-block .state-pill-active')))
      .toBe('Window ended, awaiting return');
    // The instance page says what it told whom: the escalation went to the Quality Manager (Sun).
    const sent = sun.getByRole('region', { name: 'Notifications sent' });
    await expect.poll(() => textOf(sent)).toContain('Escalation (level 1)');
    expect(await textOf(sent.locator('tr', { hasText: 'Escalation (level 1)' }))).toContain(SUN.id);
  });
});
