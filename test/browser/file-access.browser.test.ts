/**
 * Confidential file access (definitions/file_access.yaml, 4.2.2) in the browser, against the real
 * stack:
 * (a) the requester starts and submits a request; a reviewer finds it in the inbox, opens it and
 *     approves it; once the Quality Administrator has issued the file, the requester sees access
 *     granted;
 * (b) a reviewer who requested access themselves is refused approving it: separation of duties,
 *     with the engine's reason shown in the UI, and the request still awaits approval.
 * Screenshots (en + zh): the inbox and an instance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { LI, QIAN, send, submittedRequest, WANG, ZHAO } from './actors.ts';
import {
  consoleOf,
  shippedDefinitions,
  shot,
  shotBoth,
  startStack,
  textOf,
  type Lang,
  type Stack,
} from './stack.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    definitions: shippedDefinitions('file_access', 'violation_case'),
    users: [LI, ZHAO, QIAN, WANG],
  });
});

afterAll(async () => {
  await stack?.close();
  expect(stack?.serverErrors ?? []).toEqual([]);
});

const FILE_ACCESS_EN = 'Confidential file access (consult, retrieve, copy)';

/** The current state's name, as the instance page shows it. */
const currentState = (page: Page) => page.locator('.state-block .state-pill-active');

describe('[4.2.2] file access in the browser', () => {
  it('the API serves the built UI at / and on a deep link (SPA fallback); sign-in works', async () => {
    const page = await stack.open(null);
    const res = await page.goto('/instances/no-such-instance');
    expect(res?.status()).toBe(200);
    await page.getByLabel('User ID').waitFor();
    expect(consoleOf(page)).not.toMatch(/pageerror/);
  });

  it('(a) a reviewer approves a request from the inbox and the requester sees access granted', async () => {
    // The requester starts a request and submits it.
    const li = await stack.open(LI.id);
    await li.getByRole('link', { name: 'Start', exact: true }).click();
    await li.getByRole('button', { name: new RegExp(FILE_ACCESS_EN.replace(/[()]/g, '\\$&')) }).click();
    await expect.poll(() => li.getByLabel('Client').inputValue()).toBe('acme');
    await li.getByRole('button', { name: 'Start', exact: true }).click();
    await li.waitForURL(/\/instances\/file_access-/);
    const workflowId = decodeURIComponent(new URL(li.url()).pathname.split('/').pop() ?? '');
    await expect.poll(() => textOf(currentState(li))).toBe('Drafting the request');

    const submit = li.getByRole('region', { name: 'Submit request' });
    await submit.getByLabel('File id').fill('F-2026-118');
    await submit.getByLabel('Purpose').fill('surveillance audit preparation');
    await submit.getByLabel('Kind of access').selectOption({ label: 'view' });
    await submit.getByLabel('Access window (days)').selectOption({ label: '3' });
    await submit.getByRole('button', { name: 'Submit request' }).click();
    await expect
      .poll(() => textOf(li.getByRole('status').filter({ hasText: 'Done:' })))
      .toContain('Awaiting approval');
    await expect.poll(() => textOf(currentState(li))).toBe('Awaiting approval');

    // The reviewer finds it in the inbox, opens it and approves it.
    const zhao = await stack.open(ZHAO.id);
    const tasks = zhao.getByRole('table', { name: 'Tasks' });
    const row = tasks.locator(`tr[data-workflow-id="${workflowId}"]`);
    await expect.poll(() => row.count()).toBe(1);
    await shotBoth(zhao, 'inbox', (lang: Lang) =>
      zhao.getByRole('heading', { name: lang === 'en' ? 'Inbox' : '收件箱' }).waitFor(),
    );
    await row.getByRole('link', { name: /Open/ }).click();
    await zhao.waitForURL(new RegExp(`/instances/${workflowId}$`));
    const approve = zhao.getByRole('region', { name: 'Approve' });
    await approve.waitFor();
    await shotBoth(zhao, 'instance', (lang: Lang) =>
      zhao
        .getByRole('heading', { name: lang === 'en' ? 'What I can do' : '我可以执行的操作' })
        .waitFor()
        .then(() => zhao.locator('.diagram, svg').first().waitFor()),
    );
    await approve.getByLabel('Note').fill('ok for the audit');
    await approve.getByRole('button', { name: 'Approve' }).click();
    await expect
      .poll(() => textOf(zhao.getByRole('status').filter({ hasText: 'Done:' })))
      .toContain('Approved, awaiting issue');

    // The Quality Administrator issues the file (not this scenario's point: through the engine).
    await send(stack, workflowId, WANG, 'ISSUE', { copies_issued: 0 });

    // The requester sees access granted.
    await li.reload();
    await expect.poll(() => textOf(currentState(li))).toBe('Access granted');
    await expect.poll(() => textOf(li.getByRole('table', { name: 'Timeline' }))).toContain('zhao');
    await shot(li, 'file-access-granted.en');
  });

  it('(b) a reviewer may not approve their own request: separation of duties, the engine’s reason shown', async () => {
    const workflowId = await submittedRequest(stack, QIAN, {
      file_id: 'F-2026-007',
      purpose: 'compare with the 2025 file',
    });
    const qian = await stack.open(QIAN.id);
    await qian.goto(`/instances/${encodeURIComponent(workflowId)}`);
    await expect.poll(() => textOf(currentState(qian))).toBe('Awaiting approval');
    // Her roles may approve (the page offers it); who submitted is checked when she sends it.
    const approve = qian.getByRole('region', { name: 'Approve' });
    await approve.getByRole('button', { name: 'Approve' }).click();
    const refusal = approve.getByRole('alert');
    await expect.poll(() => textOf(refusal)).toContain('DUTY_CONFLICT');
    await expect.poll(() => textOf(refusal)).toContain('Separation of duties');
    await expect.poll(() => textOf(refusal)).toContain('The requester may not approve their own request');
    await shot(qian, 'file-access-duty-conflict.en');
    await qian.reload();
    await expect.poll(() => textOf(currentState(qian))).toBe('Awaiting approval');
    const timeline = qian.getByRole('table', { name: 'Timeline' });
    await expect.poll(() => textOf(timeline)).toContain('SUBMIT');
    expect(await textOf(timeline)).not.toContain('APPROVE');
  });
});
