/**
 * People in the browser, from an empty directory: the setup link `npm start` prints creates the
 * first administrator (no default password anywhere) and is void afterwards; the administrator
 * creates a user with roles (by title) and a client, hands over a one-time set-password link
 * (never seeing the password), and disables the user; the user's name, not the id alone, is
 * what the timeline shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announceSetupLink } from '../../worker/first-run.ts';
import { LI, submittedRequest } from './actors.ts';
import { shippedDefinitions, shot, signIn, startStack, textOf, type Stack } from './stack.ts';

let stack: Stack;
const ADMIN_PASSWORD = 'the first admin passphrase';
const LI_PASSWORD = 'li picks her own passphrase';

beforeAll(async () => {
  stack = await startStack({ definitions: shippedDefinitions('file_access', 'violation_case'), users: [] });
});

afterAll(async () => {
  await stack?.close();
  expect(stack?.serverErrors ?? []).toEqual([]);
});

describe('people', () => {
  it('first run: the printed setup link creates the administrator once; then it is void', async () => {
    const printed: string[] = [];
    const link = await announceSetupLink(stack.store, stack.url, (l) => printed.push(l));
    expect(link).toMatch(new RegExp(`^${stack.url}/setup#[A-Za-z0-9_-]{43}$`));
    expect(printed.join('\n')).toContain(link!);
    expect(JSON.stringify(await stack.store.audit())).not.toContain(link!.split('#')[1]!);

    const page = await stack.open(null);
    // The sign-in page says where to start.
    await page.getByText('No user exists yet').waitFor();
    await page.goto(link!);
    await page.getByLabel('User ID').fill('ada');
    await page.getByLabel('Display name').fill('Ada Admin');
    await page.getByLabel('New password').fill(ADMIN_PASSWORD);
    await page.getByLabel('Repeat the password').fill('something else');
    expect(await page.getByRole('button', { name: 'Create administrator' }).isDisabled()).toBe(true);
    await page.getByLabel('Repeat the password').fill(ADMIN_PASSWORD);
    await shot(page, 'people-setup.en');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    // Signed in as the new administrator, on the user directory.
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    expect(await stack.store.getUser('ada')).toMatchObject({ roles: ['admin'], disabled: false });

    // The same link again: setup is over (page and API).
    const again = await stack.open(null);
    await again.goto(link!);
    await again.getByText('setup is over').waitFor();
    const status = await again.evaluate(
      async (token) =>
        (
          await fetch('/api/setup', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ token, id: 'eve', displayName: 'Eve', password: 'eve takes over now' }),
          })
        ).status,
      link!.split('#')[1]!,
    );
    expect(status).toBe(409);
    expect(await announceSetupLink(stack.store, stack.url, () => undefined)).toBeUndefined();
  });

  it('an administrator creates a user who sets her own password, and later disables her', async () => {
    const ada = await stack.open(null);
    await signIn(ada, 'ada', ADMIN_PASSWORD);
    await ada.getByRole('link', { name: 'Users', exact: true }).click();
    await ada.getByRole('heading', { name: 'Users' }).waitFor();
    await expect.poll(() => textOf(ada.getByTestId('all-client-roles'))).toContain('Quality Manager');

    await ada.getByRole('button', { name: 'New user' }).click();
    const form = ada.getByRole('form', { name: 'New user' });
    await form.getByLabel('User ID').fill('li');
    await form.getByLabel('Display name').fill('Li Na');
    await form.getByRole('checkbox', { name: /Project Staff/ }).check();
    await form.getByLabel('Assigned clients').fill('acme');
    await form.getByRole('button', { name: 'Create user' }).click();
    const linkBox = ada.getByLabel('Set-password link');
    await linkBox.waitFor();
    const link = await linkBox.inputValue();
    expect(link).toMatch(/\/password-reset#[A-Za-z0-9_-]{43}$/);
    const row = ada.locator('tr[data-user-id="li"]');
    await expect.poll(() => textOf(row)).toContain('Project Staff');
    expect(await textOf(row)).toContain('acme');
    await shot(ada, 'people-users.en');

    // Roles by title: give her a second one; the change is audited with before and after.
    await ada.getByRole('button', { name: 'Done' }).click();
    await row.getByRole('button', { name: 'Edit' }).click();
    const edit = ada.getByRole('form', { name: 'Edit user li' });
    await edit.getByRole('checkbox', { name: /Quality Administrator/ }).check();
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => textOf(row)).toContain('Quality Administrator');
    expect((await stack.store.audit({ subject: 'user:li' })).at(-1)?.body).toMatchObject({
      act: 'user.update',
      before: { roles: ['project_staff'] },
      after: { roles: ['project_staff', 'quality_administrator'] },
    });
    await ada.getByRole('button', { name: '中文' }).click();
    await ada.getByRole('heading', { name: '用户' }).waitFor();
    await expect.poll(() => textOf(row)).toContain('项目人员');
    await ada.getByRole('button', { name: 'English' }).click();

    // Li sets her password with the link, then signs in with it.
    const li = await stack.open(null);
    await li.goto(link);
    await li.getByLabel('New password').fill(LI_PASSWORD);
    await li.getByLabel('Repeat the password').fill(LI_PASSWORD);
    await li.getByRole('button', { name: 'Set password' }).click();
    await li.getByText('Password set for li').waitFor();
    await li.getByRole('button', { name: 'Go to sign-in' }).click();
    await signIn(li, 'li', LI_PASSWORD);
    expect(await li.getByRole('link', { name: 'Users', exact: true }).count()).toBe(0);

    // Her name, not only her id, in the timeline.
    const workflowId = await submittedRequest(stack, LI, { file_id: 'F-1', purpose: 'people test' });
    await li.goto(`/instances/${workflowId}`);
    await expect.poll(() => textOf(li.getByRole('table', { name: 'Timeline' }))).toContain('Li Na');

    // Disabled: her session ends; the administrator cannot disable herself.
    expect(
      await ada.locator('tr[data-user-id="ada"]').getByRole('button', { name: 'Disable' }).isDisabled(),
    ).toBe(true);
    await row.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => textOf(row)).toContain('disabled');
    const audit = (await stack.store.audit({ subject: 'user:li' })).at(-1);
    expect(audit).toMatchObject({
      actorId: 'ada',
      body: { before: { disabled: false }, after: { disabled: true } },
    });
    await li.reload();
    await li.getByLabel('User ID').waitFor();
  });
});
