/**
 * The harness itself: the API serves the built UI at `/` (and deep links), Chromium opens it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleOf, shippedDefinitions, startStack, type Stack } from './stack.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    definitions: shippedDefinitions('file_access', 'violation_case'),
    users: [{ id: 'li', displayName: 'Li', roles: ['project_staff'], clients: ['acme'] }],
  });
});

afterAll(async () => {
  await stack?.close();
});

describe('browser harness', () => {
  it('serves the built UI at / and on a deep link, and Chromium runs it', async () => {
    const page = await stack.open(null);
    await expect.poll(() => page.locator('#root').innerHTML()).not.toBe('');
    const res = await page.goto('/instances/some-id');
    expect(res?.status()).toBe(200);
    await expect.poll(() => page.locator('#root').innerHTML()).not.toBe('');
    expect(consoleOf(page)).not.toMatch(/pageerror/);
    expect(stack.serverErrors).toEqual([]);
  });
});
