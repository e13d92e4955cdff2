/**
 * (d) An administrator edits a definition in the browser: introduces an error in the YAML editor,
 * sees it marked at the right line (the diagnostics list and the editor's lint mark on that line),
 * fixes it, bumps the version and deploys it (a new immutable version), then starts an instance of
 * the new version from the deploy result.
 * Screenshots (en + zh): the editor with the error marked.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { SHIPPED_DEFINITIONS } from '../integration/harness.ts';
import { ADMIN } from './actors.ts';
import { shippedDefinitions, shot, shotBoth, startStack, textOf, type Lang, type Stack } from './stack.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    definitions: shippedDefinitions('file_access', 'violation_case'),
    users: [ADMIN],
    // Deploying at once (development mode, with its warning banner); the four-eyes flow is
    // proposal.browser.test.ts.
    singleAdminDeploy: true,
  });
});

afterAll(async () => {
  await stack?.close();
  expect(stack?.serverErrors ?? []).toEqual([]);
});

const SHIPPED = readFileSync(path.join(SHIPPED_DEFINITIONS, 'file_access.yaml'), 'utf8');
/** The shipped version with its minor part raised (what the admin deploys). */
const NEXT = ((): string => {
  const [major, minor] = (/^version: (\d+)\.(\d+)\.\d+$/m.exec(SHIPPED) ?? []).slice(1).map(Number);
  if (major === undefined || minor === undefined) throw new Error('file_access.yaml has no version');
  return `${major}.${minor + 1}.0`;
})();

/** Replace the editor's whole text the way a user does (select all, type). */
async function replaceText(page: Page, text: string): Promise<void> {
  const editor = page.getByRole('region', { name: 'Definition YAML' }).locator('.cm-content');
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

describe('definition editor in the browser', () => {
  it('steps the compiled machine in the simulator: roles, separation of duties, the engine’s reasons', async () => {
    const page = await stack.open(ADMIN.id);
    await page.goto(`${stack.url}/definitions/file_access`);
    await page.getByRole('tab', { name: 'Simulator' }).click();
    const state = page.getByTestId('sim-state');
    await expect.poll(() => textOf(state)).toContain('Drafting the request');
    const role = page.getByLabel('Role', { exact: true });
    const send = page.getByRole('button', { name: 'Send', exact: true });

    await role.selectOption('project_staff');
    await page.getByLabel('Can send now').getByRole('button', { name: 'Submit request' }).click();
    await send.click();
    await expect.poll(() => textOf(state)).toContain('Awaiting approval');

    // The requester approving: first the wrong role, then (as approver) their own request.
    await page.getByLabel('Event', { exact: true }).selectOption('APPROVE');
    await send.click();
    await expect.poll(() => textOf(page.locator('.sim-refusal'))).toContain('ROLE_NOT_ALLOWED');
    await role.selectOption('general_affairs_head');
    await page.getByLabel('Event', { exact: true }).selectOption('APPROVE');
    await send.click();
    await expect.poll(() => textOf(page.locator('.sim-refusal'))).toContain('DUTY_CONFLICT');
    await page.getByLabel('Actor id').fill('zhao');
    await page.getByLabel('Event', { exact: true }).selectOption('APPROVE');
    await send.click();
    await expect.poll(() => textOf(state)).toContain('Approved, awaiting issue');
    expect(await page.getByRole('list', { name: 'Transition log' }).getByRole('listitem').count()).toBe(3);
    // The diagram follows the simulation.
    await expect
      .poll(() => page.locator('[data-state-id="approved"]').getAttribute('data-status'))
      .toBe('active');
    await page.context().close();
  });

  it('(d) an error is marked at its line, fixed, deployed as a new version, and the new version started', async () => {
    // The error: SUBMIT in `draft` goes to a state that does not exist.
    const lines = SHIPPED.split('\n');
    const index = lines.findIndex((l) => l.trim() === 'target: submitted');
    expect(index).toBeGreaterThan(0);
    const line = index + 1;
    const broken = lines.map((l, i) => (i === index ? l.replace('submitted', 'submited') : l)).join('\n');

    const page = await stack.open(ADMIN.id);
    await page.getByRole('link', { name: 'Definitions', exact: true }).click();
    await page.getByRole('button', { name: /^Edit file_access$/ }).click();
    await page.waitForURL(/\/definitions\/file_access$/);
    await page.getByRole('region', { name: 'Definition YAML' }).locator('.cm-content').waitFor();
    const summary = page.getByRole('region', { name: 'Diagnostics' }).getByRole('status');
    await expect.poll(() => textOf(summary)).toContain('No problems');
    // Single-admin deploys are on: the page says so.
    await expect
      .poll(() => textOf(page.getByTestId('single-admin-banner')))
      .toContain('Single-admin deploys are on (CUSTODIA_SINGLE_ADMIN_DEPLOY)');

    await replaceText(page, broken);
    const diagnostic = page
      .getByRole('region', { name: 'Diagnostics' })
      .locator(`li.diagnostic-error[data-line="${line}"]`);
    await expect.poll(() => textOf(diagnostic)).toContain(`line ${line}`);
    expect(await textOf(diagnostic)).toContain('submited');
    const deploy = page.getByRole('button', { name: 'Deploy', exact: true });
    expect(await deploy.isDisabled()).toBe(true);
    // Jump to it: the editor's current line is that line, with the error's mark on the bad target.
    await diagnostic.getByRole('button').click();
    await expect.poll(() => textOf(page.locator('.cm-lineNumbers .cm-activeLineGutter'))).toBe(String(line));
    await expect.poll(() => textOf(page.locator('.cm-activeLine .cm-lintRange-error'))).toBe('submited');
    await shotBoth(page, 'editor', (lang: Lang) =>
      page
        .getByRole('region', { name: lang === 'en' ? 'Diagnostics' : '诊断' })
        .locator(`li[data-line="${line}"]`)
        .waitFor(),
    );

    // Fixed, as the next minor version with a clearer task text.
    const fixed = SHIPPED.replace(/^version: .*$/m, `version: ${NEXT}`).replace(
      "en: 'Fill in the file, purpose, kind of access and window, then submit'",
      "en: 'Fill in the file id, purpose, kind of access and window, then submit the request'",
    );
    expect(fixed).not.toBe(SHIPPED);
    await replaceText(page, fixed);
    await expect.poll(() => textOf(summary)).toContain('No problems');
    await expect.poll(() => deploy.isEnabled()).toBe(true);
    await deploy.click();
    const dialog = page.getByRole('dialog', { name: 'Deploy this definition?' });
    expect(await textOf(dialog)).toContain(`Version ${NEXT} of file_access`);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    const deployed = page.locator('.deploy-result.ok');
    await expect.poll(() => textOf(deployed)).toContain(`Deployed file_access version ${NEXT}`);
    await shot(page, 'editor-deployed.en');
    expect(stack.definitions.get('file_access')?.ir.version).toBe(NEXT);

    // Start an instance of the new version.
    await deployed.getByRole('button', { name: 'Start an instance of this version' }).click();
    await page.waitForURL(/\/start\?procedure=file_access/);
    await expect.poll(() => page.getByLabel('Client').inputValue()).toBe('acme');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.waitForURL(/\/instances\/file_access-/);
    await expect.poll(() => textOf(page.locator('.page-header .badge').first())).toBe(`file_access@${NEXT}`);
    await expect
      .poll(() => textOf(page.locator('.state-block .task')))
      .toBe('Fill in the file id, purpose, kind of access and window, then submit the request');
  });
});
