/**
 * The simulator plays SLA points (issue 13): in the definition editor, an admin submits a
 * file_access request in the simulator; `submitted` lists its reminder and its escalation to the
 * Quality Manager (working days on the deployment's calendar); advancing to the escalation sends
 * the reminder, then the escalation — level 1, who was told and the engine's text — and deciding
 * leaves the state with its points. Then the same in Chinese.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ADMIN } from './actors.ts';
import { setLang, shippedDefinitions, shot, startStack, textOf, type Lang, type Stack } from './stack.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    definitions: shippedDefinitions('file_access', 'violation_case'),
    users: [ADMIN],
  });
});

afterAll(async () => {
  await stack?.close();
  expect(stack?.serverErrors ?? []).toEqual([]);
});

const T = {
  en: {
    tab: 'Simulator',
    submit: 'Submit request',
    send: 'Send',
    awaiting: 'Awaiting approval',
    points: 'Reminders and escalations',
    advance: /^Advance to: escalation to .* \(quality_manager\) \(level 1\)$/,
    reminder: 'reminder 1',
    notices: 'Notifications sent',
    level: 'Escalation level: 1',
    escalationText: 'Escalation (level 1)',
    reminderText: 'Reminder:',
  },
  zh: {
    tab: '模拟',
    submit: '提交申请',
    send: '发送',
    awaiting: '待批准',
    points: '提醒和升级',
    advance: /^推进到：升级至 .* \(quality_manager\)（第 1 级）$/,
    reminder: '提醒 1',
    notices: '已发出的通知',
    level: '升级级别：1',
    escalationText: '升级（第 1 级）',
    reminderText: '提醒：',
  },
} as const;

async function playEscalation(page: Page, lang: Lang): Promise<void> {
  const t = T[lang];
  await page.goto(`${stack.url}/definitions/file_access`);
  await page.getByRole('tab', { name: t.tab }).click();
  const state = page.getByTestId('sim-state');
  // The simulator's controls carry English accessible names in both languages.
  await page.getByLabel('Role', { exact: true }).selectOption('project_staff');
  await page.getByLabel('Can send now').getByRole('button', { name: t.submit }).click();
  await page.getByRole('button', { name: t.send, exact: true }).click();
  await expect.poll(() => textOf(state)).toContain(t.awaiting);

  const points = page.getByRole('list', { name: t.points });
  await expect.poll(() => points.getByRole('listitem').count()).toBe(2);
  expect(await textOf(points.getByRole('listitem').first())).toContain(t.reminder);
  expect(await textOf(page.getByTestId('sim-escalation'))).toContain(lang === 'en' ? 'level: 0' : '级别：0');

  await points.getByRole('button', { name: t.advance }).click();
  await expect.poll(() => textOf(page.getByTestId('sim-escalation'))).toContain(t.level);
  const notices = page.getByRole('list', { name: t.notices }).getByRole('listitem');
  // The reminder told the roles that can approve; the escalation the Quality Manager.
  expect(await notices.count()).toBe(3);
  const all = await notices.allTextContents();
  expect(all.slice(0, 2).every((n) => n.includes(t.reminderText))).toBe(true);
  expect(all.some((n) => n.includes('(general_affairs_head)'))).toBe(true);
  expect(all[2]).toContain('(quality_manager)');
  expect(all[2]).toContain(t.escalationText);
  // Both points are sent; the transition log has their `$sla` records.
  expect(await points.getByRole('button').count()).toBe(0);
  const log = page.getByRole('list', { name: lang === 'en' ? 'Transition log' : '转换记录' });
  expect((await log.allTextContents()).join(' ').match(/\$sla/g)).toHaveLength(2);
}

describe('the simulator plays SLA points', () => {
  it('fires the escalation of file_access: level 1, the Quality Manager told, the engine’s text', async () => {
    const page = await stack.open(ADMIN.id);
    await playEscalation(page, 'en');
    await shot(page, 'simulator-sla.en');

    // Approving leaves the state: its points are gone, the notices sent stay listed.
    await page.getByLabel('Role', { exact: true }).selectOption('general_affairs_head');
    await page.getByLabel('Actor id').fill('zhao');
    await page.getByLabel('Event', { exact: true }).selectOption('APPROVE');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await expect.poll(() => textOf(page.getByTestId('sim-state'))).toContain('Approved, awaiting issue');
    expect(await page.getByRole('list', { name: 'Reminders and escalations' }).count()).toBe(0);
    expect(await textOf(page.getByTestId('sim-escalation'))).toContain('Escalation level: 0');
    expect(await page.getByRole('list', { name: 'Notifications sent' }).getByRole('listitem').count()).toBe(
      3,
    );
    await page.context().close();
  });

  it('in Chinese', async () => {
    const page = await stack.open(ADMIN.id);
    await setLang(page, 'zh');
    await playEscalation(page, 'zh');
    await shot(page, 'simulator-sla.zh');
    await page.context().close();
  });
});
