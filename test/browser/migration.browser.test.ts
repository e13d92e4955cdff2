/**
 * Migration from the definition's page, against the real stack: four running instances of
 * migration_intake 1.0.0 (draft, submitted, on hold, escalated at normal priority); 2.0.0 deployed;
 * the admin opens the definition, dry-runs (2 move, 1 needs a mapping, 1 cannot move, each with its
 * reason), migrates the two, watches the progress to the end and reads the result per instance; the
 * moved ones run 2.0.0. The 2.0.0 deployed here also gives `review` a reminder 1 s after its entry
 * and an escalation after 30 minutes: the submitted instance (mapped into review, keeping its
 * entry) sets the reminder off at once, which the dry run warns of (en + zh), with the escalation
 * due within the hour. Screenshot (en + zh): the dry run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { loadDeployedDefinitions } from '../../worker/process.ts';
import { deployDefinitionText } from '../../worker/deploy.ts';
import { getSnapshot, startProcedure } from '../../worker/instances.ts';
import { sendEvent } from '../integration/harness.ts';
import { ADMIN } from './actors.ts';
import { setLang, shotBoth, startStack, textOf, type Stack } from './stack.ts';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/migration');
const staff = { id: 'sam', roles: ['project_staff'] };
const qm = { id: 'quin', roles: ['quality_manager'] };

let stack: Stack;
const ids: Record<string, string> = {};

beforeAll(async () => {
  stack = await startStack({
    definitions: loadDeployedDefinitions([path.join(FIXTURES, 'v1')]),
    users: [ADMIN],
  });
  const def = stack.definitions.get('migration_intake')!;
  const scenes: [string, string[]][] = [
    ['draft', []],
    ['submitted', ['SUBMIT']],
    ['on_hold', ['SUBMIT', 'HOLD']],
    ['escalated', ['SUBMIT', 'ESCALATE']],
  ];
  for (const [name, events] of scenes) {
    const id = await startProcedure(stack.client, def, {
      context: { client: 'acme' },
      starter: staff,
      taskQueue: stack.taskQueue,
    });
    for (const type of events)
      await sendEvent(stack.client, id, { type, actor: type === 'SUBMIT' ? staff : qm });
    ids[name] = id;
  }
  const v2 = readFileSync(path.join(FIXTURES, 'v2/intake.yaml'), 'utf8');
  const withSla = v2.replace(
    '    initial: pending\n',
    '    initial: pending\n' +
      '    sla: { remind: [{ after: PT1S, to: quality_manager }], escalate: [{ after: PT30M, to: quality_manager }] }\n',
  );
  expect(withSla).not.toBe(v2);
  await deployDefinitionText(stack.store, stack.definitions, withSla, 'admin');
});

afterAll(async () => {
  await stack?.close();
  expect(stack?.serverErrors ?? []).toEqual([]);
});

describe('migration in the browser', () => {
  it('dry run from the definition page, then the batch: progress and a result per instance', async () => {
    const page = await stack.open(ADMIN.id);
    await page.goto(`${stack.url}/definitions/migration_intake`);
    const panel = page.getByRole('region', { name: 'Migrate running instances' });
    await panel.waitFor();
    expect(await panel.getByTestId('migration-version').inputValue()).toBe('2.0.0');
    const dry = panel.getByRole('button', { name: 'Dry run' });
    const table = panel.getByRole('table', { name: 'Class per instance' });
    // Visibility may lag the starts: dry-run until all four are listed.
    await expect
      .poll(
        async () => {
          await dry.click();
          await table.waitFor();
          return textOf(panel.getByTestId('migration-dry-run').getByRole('status'));
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toContain('4 running: 2 move, 1 need a mapping, 1 cannot move');
    const row = (name: string) => table.locator(`tr[data-workflow-id="${ids[name]}"]`);
    expect(await textOf(row('submitted'))).toContain('submitted → review.pending');
    expect(await textOf(row('draft'))).toContain('(+checked)');
    expect(await textOf(row('on_hold'))).toContain('UNMAPPED_STATE');
    expect(await textOf(row('escalated'))).toContain('NOT_COVERED');
    // The reminder of review (1 s after the entry the submitted instance keeps) fires at once.
    const warning = panel.getByTestId('migration-fires-at-once');
    expect(await warning.getAttribute('role')).toBe('alert');
    expect(await textOf(warning)).toContain(
      'Warning: migrating sets off at once, for 1 instance: 1 reminder',
    );
    expect(await textOf(panel.getByTestId('migration-due-soon'))).toContain('1 escalation (1 instance)');
    expect(await textOf(row('submitted'))).toContain(
      'At once: reminder review (PT1S after entry) → quality_manager, due',
    );
    expect(await textOf(row('submitted'))).toContain('Soon: escalation level 1 review (PT30M after entry)');
    expect(await row('draft').locator('td[data-deadlines]').count()).toBe(0);
    await shotBoth(page, 'migration-dry-run', (lang) =>
      page.getByRole('button', { name: lang === 'zh' ? '试运行' : 'Dry run' }).waitFor(),
    );
    // In Chinese too (the language switch may have reloaded the page: dry-run again).
    await setLang(page, 'zh');
    const zhPanel = page.getByRole('region', { name: '迁移运行中的实例' });
    await zhPanel.getByRole('button', { name: '试运行' }).click();
    await expect
      .poll(() => textOf(zhPanel.getByTestId('migration-fires-at-once')), { timeout: 15_000 })
      .toContain('警告：迁移将立即为 1 个实例触发 提醒 1 条');
    await setLang(page, 'en');
    // Dry-run again in English (a language switch may have reloaded the page), then migrate.
    await dry.click();
    await expect
      .poll(() => textOf(panel.getByTestId('migration-dry-run').getByRole('status')))
      .toContain('2 move');

    await panel.getByRole('button', { name: 'Migrate 2 instances' }).click();
    const job = panel.getByTestId('migration-job');
    await expect.poll(() => job.getAttribute('data-finished'), { timeout: 30_000 }).toBe('true');
    expect(await textOf(job.getByRole('status'))).toContain('2/2 done: 2 moved, 0 not moved (finished)');
    expect(await textOf(job.locator(`tr[data-workflow-id="${ids.submitted}"]`))).toContain(
      '1.0.0 → 2.0.0: submitted → review.pending',
    );
    expect((await getSnapshot(stack.client, ids.submitted!)).version).toBe('2.0.0');
    expect((await getSnapshot(stack.client, ids.on_hold!)).version).toBe('1.0.0');
  });
});
