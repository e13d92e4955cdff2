/**
 * The notification centre in the browser: a request submitted by project staff notifies the head of
 * General Affairs of that client (`notify: { to: general_affairs_head }` in file_access). Zhao, with
 * the UI open, sees the bell count it; the list shows the message in his language and links to the
 * instance; "mark all read" clears the bell. The Quality Administrator (another role) is told nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LI, submittedRequest, WANG, ZHAO } from './actors.ts';
import { setLang, shippedDefinitions, startStack, textOf, type Stack } from './stack.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    definitions: shippedDefinitions('file_access', 'violation_case'),
    users: [LI, ZHAO, WANG],
  });
});

afterAll(async () => {
  await stack?.close();
  expect(stack?.serverErrors ?? []).toEqual([]);
});

describe('notification centre in the browser', () => {
  it('the bell counts a new notification; the list shows it in my language, linked; mark all read clears it', async () => {
    const zhao = await stack.open(ZHAO.id);
    const bell = zhao.locator('a.bell');
    await bell.waitFor();
    expect(await bell.getAttribute('aria-label')).toBe('Notifications');

    const workflowId = await submittedRequest(stack, LI, {
      file_id: 'F-2026-077',
      purpose: 'audit preparation',
    });

    // The bell looks again on every navigation (and every 30 s).
    const nav = ['Instances', 'Inbox'];
    let i = 0;
    await expect
      .poll(
        async () => {
          await zhao.getByRole('link', { name: nav[i++ % 2]!, exact: true }).click();
          return bell.getAttribute('aria-label');
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe('Notifications (1 unread)');
    expect(await textOf(bell)).toBe('1');

    await bell.click();
    await zhao.getByRole('heading', { name: 'Notifications', exact: true }).waitFor();
    const item = zhao.locator('.notification').first();
    expect(await textOf(item)).toContain('A confidential file access request awaits approval');
    expect(await item.getAttribute('class')).toContain('unread');
    expect(await item.getByRole('link').getAttribute('href')).toBe(`/instances/${workflowId}`);

    await setLang(zhao, 'zh');
    await expect
      .poll(() => textOf(zhao.locator('.notification').first()))
      .toContain('有一项保密文件查阅申请待批准');
    await setLang(zhao, 'en');

    await zhao.getByRole('button', { name: 'Mark all read' }).click();
    await expect.poll(() => bell.getAttribute('aria-label')).toBe('Notifications');
    await expect.poll(async () => (await item.getAttribute('class')) ?? '').toContain('read');
    expect(await zhao.locator('.bell-count').count()).toBe(0);

    await item.getByRole('link').click();
    await zhao.waitForURL(new RegExp(`/instances/${workflowId}$`));

    // Another role of the same client was not told.
    const wang = await stack.open(WANG.id);
    await wang.locator('a.bell').click();
    await wang.getByText('No notifications.').waitFor();
  });
});
