/**
 * An English-only definition (`languages: [en]`, `test/fixtures/english/leave_request.yaml`) in the
 * browser, against the real stack: its texts show in English whichever language the UI is in (the
 * definition's own language is the fallback), and the engine's refusal reaches the reader in the
 * UI's language — in Chinese for a Chinese reader, in English for an English one.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { loadDeployedDefinitions } from '../../worker/process.ts';
import { send, start } from './actors.ts';
import { setLang, startStack, textOf, type Lang, type Stack } from './stack.ts';

/** An employee who is also a manager: her own leave she may not approve. */
const ERIN = { id: 'erin', displayName: 'Erin', roles: ['employee', 'manager'], clients: ['acme'] } as const;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    definitions: loadDeployedDefinitions([path.join(REPO_ROOT, 'test/fixtures/english/leave_request.yaml')]),
    users: [ERIN],
  });
});
afterAll(async () => {
  await stack?.close();
  expect(stack?.serverErrors ?? []).toEqual([]);
});

describe('an English-only definition in the browser', () => {
  it.each([
    [
      'zh',
      '职责分离：erin 已执行 REQUEST，因此不能执行 APPROVE（Nobody approves their own leave）',
      '职责分离',
    ],
    [
      'en',
      'separation of duties: erin sent REQUEST, so erin may not send APPROVE (Nobody approves their own leave)',
      'Separation of duties',
    ],
  ] as [Lang, string, string][])(
    'in the %s UI: English texts, the refusal in the UI’s language',
    async (lang, detail, summary) => {
      const id = await start(stack, 'leave_request', ERIN, { client: 'acme' });
      await send(stack, id, ERIN, 'REQUEST', { days: 5 });
      const page = await stack.open(ERIN.id);
      await setLang(page, lang);
      await page.goto(`/instances/${encodeURIComponent(id)}`);
      await expect
        .poll(() => textOf(page.locator('.state-block .state-pill-active')))
        .toBe('Awaiting the manager');
      const approve = page.getByRole('region', { name: 'Approve' });
      await approve.getByRole('button', { name: 'Approve' }).click();
      const refusal = approve.getByRole('alert');
      await expect.poll(() => textOf(refusal)).toContain('DUTY_CONFLICT');
      await expect.poll(() => textOf(refusal)).toContain(detail);
      expect(await textOf(refusal)).toContain(summary);
    },
  );
});
