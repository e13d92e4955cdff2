/**
 * Four-eyes deployment in the browser, against the real stack: admin A edits a definition and
 * deploys it — which proposes it ("awaiting a second admin", with a link); A's own approval is
 * refused (separation of duties, the engine's reason shown); admin B finds the proposal in the
 * inbox, reads the coloured diff and the proofs, and approves it; the version becomes current and
 * instances started afterwards run it. Screenshots (en + zh): the proposal as B reviews it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { SHIPPED_DEFINITIONS } from '../integration/harness.ts';
import { ADMIN } from './actors.ts';
import { shippedDefinitions, shot, shotBoth, startStack, textOf, type Lang, type Stack } from './stack.ts';

/** The second administrator (reviews; sees no client). */
const BOB = { id: 'bob', displayName: 'Bob Reviewer', roles: ['admin'], clients: [] } as const;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    definitions: shippedDefinitions('file_access', 'violation_case', 'definition_change'),
    users: [ADMIN, BOB],
  });
});

afterAll(async () => {
  await stack?.close();
  expect(stack?.serverErrors ?? []).toEqual([]);
});

const SHIPPED = readFileSync(path.join(SHIPPED_DEFINITIONS, 'file_access.yaml'), 'utf8');
const CURRENT = /^version: (.*)$/m.exec(SHIPPED)?.[1] ?? '';
const NEXT = ((): string => {
  const [major, minor] = CURRENT.split('.').map(Number);
  return `${major}.${(minor ?? 0) + 1}.0`;
})();
const OLD_TASK = "en: 'Fill in the file, purpose, kind of access and window, then submit'";
const NEW_TASK = "en: 'Fill in the file id, purpose, kind of access and window, then submit the request'";

async function replaceText(page: Page, text: string): Promise<void> {
  const editor = page.getByRole('region', { name: 'Definition YAML' }).locator('.cm-content');
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

const currentState = (page: Page) => page.locator('.state-block .state-pill-active');

/** The computed background colour of an element (run in the page). */
const background = (locator: Locator): Promise<string> =>
  locator.evaluate(
    (el) =>
      (
        globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }
      ).getComputedStyle(el).backgroundColor,
  );

describe('four-eyes deployment in the browser', () => {
  it('A proposes, A may not approve, B reviews the diff and proofs from the inbox and approves; new instances run it', async () => {
    const changed = SHIPPED.replace(/^version: .*$/m, `version: ${NEXT}`).replace(OLD_TASK, NEW_TASK);
    expect(changed).not.toBe(SHIPPED);

    // A deploys from the editor: a proposal, awaiting a second admin; nothing deployed yet.
    const ada = await stack.open(ADMIN.id);
    await ada.goto(`${stack.url}/definitions/file_access`);
    expect(await ada.getByTestId('single-admin-banner').count()).toBe(0);
    await ada.getByRole('region', { name: 'Definition YAML' }).locator('.cm-content').waitFor();
    const summary = ada.getByRole('region', { name: 'Diagnostics' }).getByRole('status');
    await expect.poll(() => textOf(summary)).toContain('No problems');
    await replaceText(ada, changed);
    await expect.poll(() => textOf(summary)).toContain('No problems');
    const deploy = ada.getByRole('button', { name: 'Deploy', exact: true });
    await expect.poll(() => deploy.isEnabled()).toBe(true);
    await deploy.click();
    const dialog = ada.getByRole('dialog', { name: 'Propose this definition?' });
    expect(await textOf(dialog)).toContain(`Version ${NEXT} of file_access will be proposed`);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    const proposed = ada.locator('.deploy-result.proposed');
    await expect
      .poll(() => textOf(proposed))
      .toContain(`Proposed file_access version ${NEXT}, awaiting a second admin.`);
    expect(stack.definitions.get('file_access')?.ir.version).toBe(CURRENT);

    // A follows the link and tries to approve their own change: refused by the engine.
    await proposed.getByRole('link', { name: 'Open the proposal' }).click();
    await ada.waitForURL(/\/instances\/definition_change-/);
    const workflowId = decodeURIComponent(new URL(ada.url()).pathname.split('/').pop() ?? '');
    await expect.poll(() => textOf(currentState(ada))).toBe('Awaiting a second administrator');
    const own = ada.getByRole('region', { name: 'Approve and deploy' });
    await own.getByRole('button', { name: 'Approve and deploy' }).click();
    const refusal = own.getByRole('alert');
    await expect.poll(() => textOf(refusal)).toContain('DUTY_CONFLICT');
    await expect.poll(() => textOf(refusal)).toContain('The author may not approve their own change');
    await shot(ada, 'proposal-own-approval-refused.en');
    expect(stack.definitions.get('file_access')?.ir.version).toBe(CURRENT);

    // B finds it in the inbox and opens it: the diff, coloured, and the proofs.
    const bob = await stack.open(BOB.id);
    const row = bob.getByRole('table', { name: 'Tasks' }).locator(`tr[data-workflow-id="${workflowId}"]`);
    await expect.poll(() => row.count()).toBe(1);
    await row.getByRole('link', { name: /Open/ }).click();
    await bob.waitForURL(new RegExp(`/instances/${workflowId}$`));
    const panel = bob.getByTestId('proposal');
    await expect.poll(() => textOf(panel.getByTestId('proposal-versions'))).toBe(`${CURRENT} → ${NEXT}`);
    const added = panel.locator('tr.pdiff-added');
    const removed = panel.locator('tr.pdiff-removed');
    await expect.poll(() => textOf(added)).toContain(`version: ${NEXT}`);
    expect(await textOf(added)).toContain('then submit the request');
    expect(await textOf(removed)).toContain(`version: ${CURRENT}`);
    expect(await background(added.first())).toBe('rgb(230, 247, 234)');
    expect(await background(removed.first())).toBe('rgb(253, 234, 234)');
    const proofs = panel.getByRole('list', { name: 'Invariants' });
    const invariants = stack.definitions.get('file_access')!.ir.invariants.map((i) => i.id);
    expect(await proofs.getByRole('listitem').count()).toBe(invariants.length);
    expect(await textOf(proofs)).toContain('✓ approver_not_requester');
    expect(await textOf(panel.getByTestId('proposal-validation'))).toContain(
      `${invariants.length} invariant(s) proved on every path`,
    );
    await shotBoth(bob, 'proposal', (lang: Lang) =>
      bob
        .getByRole('heading', { name: lang === 'en' ? 'Definition change' : '程序定义变更' })
        .first()
        .waitFor(),
    );

    // B approves: deployed, current.
    const approve = bob.getByRole('region', { name: 'Approve and deploy' });
    await approve.getByLabel('Note').fill('reviewed the task text');
    await approve.getByRole('button', { name: 'Approve and deploy' }).click();
    // The page follows the engine's work by itself (it looks again every second while the engine
    // deploys, not at its usual 20 s), with no reload.
    await expect.poll(() => textOf(currentState(bob)), { timeout: 10_000 }).toBe('Deployed');
    expect(stack.definitions.get('file_access')?.ir.version).toBe(NEXT);
    expect(await textOf(bob.getByTestId('proposal'))).toContain(`Deployed file_access ${NEXT}.`);
    expect((await stack.store.definitionVersion('file_access', NEXT))?.deployedBy).toBe('bob');

    // An instance started afterwards runs the new version.
    await ada.goto(`${stack.url}/start?procedure=file_access`);
    await expect.poll(() => ada.getByLabel('Client').inputValue()).toBe('acme');
    await ada.getByRole('button', { name: 'Start', exact: true }).click();
    await ada.waitForURL(/\/instances\/file_access-/);
    await expect.poll(() => textOf(ada.locator('.page-header .badge').first())).toBe(`file_access@${NEXT}`);
    await expect
      .poll(() => textOf(ada.locator('.state-block .task')))
      .toBe('Fill in the file id, purpose, kind of access and window, then submit the request');
  });
});
