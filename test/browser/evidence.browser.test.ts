/**
 * The auditor's button (issue 17 item 4): an auditor of acme opens the Evidence pack panel on the
 * Instances page and downloads acme's pack — a zip that verifies offline, the PDF inside; a
 * client the auditor may not see is refused with the server's reason; project staff see no panel.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPack } from '../../worker/evidence/verify-pack.ts';
import { LI, submittedRequest } from './actors.ts';
import { shippedDefinitions, shot, startStack, textOf, type Stack } from './stack.ts';

const AUDITOR = { id: 'tang', displayName: 'Tang Yu', roles: ['auditor'], clients: ['acme'] } as const;
const ROAMING = { id: 'lu', displayName: 'Lu Wen', roles: ['auditor'], clients: [] } as const;
const dir = mkdtempSync(path.join(os.tmpdir(), 'custodia-evidence-browser-'));
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    definitions: shippedDefinitions('file_access', 'violation_case'),
    users: [LI, AUDITOR, ROAMING],
    checkpointDir: dir,
  });
});

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
  expect(stack?.serverErrors ?? []).toEqual([]);
});

describe('evidence pack in the browser', () => {
  it('[4.2.2] an auditor downloads a client’s pack, which verifies offline; another client is refused', async () => {
    const workflowId = await submittedRequest(stack, LI, { file_id: 'F-2026-301', purpose: 'assessment' });
    await expect.poll(async () => (await stack.store.auditOf(workflowId)).length).toBe(2);

    const page = await stack.open(AUDITOR.id);
    await page.getByRole('link', { name: 'Instances', exact: true }).click();
    await page.getByText('Evidence pack for the assessor').click();
    const button = page.getByRole('button', { name: 'Download evidence pack' });
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 120_000 }),
      button.click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^evidence-acme-start-\d{4}-\d{2}-\d{2}\.zip$/);
    const file = path.join(dir, download.suggestedFilename());
    await download.saveAs(file);
    const zip = readFileSync(file);
    const v = verifyPack(zip);
    expect(v.checks.filter((c) => !c.ok)).toEqual([]);
    expect(Buffer.from(unzipSync(zip)['audit-segment.jsonl']!).toString()).toContain(workflowId);
    await page.getByText('Downloaded.').waitFor();
    await shot(page, 'evidence-panel');

    // An auditor without acme types it in: the server refuses, the panel says why.
    const roaming = await stack.open(ROAMING.id);
    await roaming.getByRole('link', { name: 'Instances', exact: true }).click();
    await roaming.getByText('Evidence pack for the assessor').click();
    await roaming.locator('.evidence-pack').getByLabel('Client').fill('acme');
    await roaming.getByRole('button', { name: 'Download evidence pack' }).click();
    const error = roaming.locator('.evidence-pack .error-box');
    await error.waitFor();
    expect(await textOf(error)).toContain('CLIENT_NOT_VISIBLE');

    // Project staff have no such panel.
    const li = await stack.open(LI.id);
    await li.getByRole('link', { name: 'Instances', exact: true }).click();
    await li.getByRole('heading', { name: 'Instances' }).waitFor();
    expect(await li.getByText('Evidence pack for the assessor').count()).toBe(0);
  }, 240_000);
});
