/**
 * Sign-in through an OpenID Connect provider, end to end in a real browser: a real OpenID Provider
 * (`oidc-provider`, the certified implementation, with its development login pages) on a free port,
 * the API with OIDC configured, and Debian's Chromium following the redirects — authorization code
 * with PKCE, state and nonce, ID token checked, the claim mapped to a Custodia user, a session.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import Provider from 'oidc-provider';
import type { Client } from '@temporalio/client';
import { createApi, type Api } from '../../worker/api/server.ts';
import { oidcSettings, safeReturnTo } from '../../worker/api/oidc.ts';
import { enrolOidcUser } from '../../worker/api/oidc-users.ts';
import { openStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { testPort } from '../support/ports.ts';

const CHROMIUM = process.env.CUSTODIA_CHROMIUM ?? '/usr/bin/chromium';

let idp: Server;
let issuer: string;
let store: RecordsStore;
let api: Api;
let base: string;
let browser: Browser;

beforeAll(async () => {
  const apiPort = await testPort();
  base = `http://127.0.0.1:${apiPort}`;
  const idpPort = await testPort();
  issuer = `http://127.0.0.1:${idpPort}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'custodia',
        client_secret: 'a-client-secret-for-tests-only',
        redirect_uris: [`${base}/api/oidc/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    // The development login page accepts any login name: it becomes the subject and the username.
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, preferred_username: id, name: id }),
    }),
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'] },
    pkce: { required: () => true },
    cookies: { keys: ['custodia-oidc-test-cookie-key'] },
  });
  idp = createServer(provider.callback());
  await new Promise<void>((r) => idp.listen(idpPort, '127.0.0.1', r));

  store = await openStore({ dataDir: null });
  await store.createUser(
    { id: 'olga', displayName: 'Olga', roles: ['quality_manager'], password: 'an unusable long password' },
    'test',
  );
  await store.createUser(
    { id: 'gone', displayName: 'Gone', roles: ['project_staff'], password: 'an unusable long password' },
    'test',
  );
  await store.setDisabled('gone', true, 'test');
  // Only users enrolled for the provider sign in through it (custodia user create --oidc does this).
  await enrolOidcUser(store, 'olga', 'test');
  await enrolOidcUser(store, 'gone', 'test');
  // A password account (an admin) the provider's claim must never reach.
  await store.createUser(
    { id: 'pat', displayName: 'Pat', roles: ['admin'], password: 'a long password of pat' },
    'test',
  );
  const settings = oidcSettings({
    CUSTODIA_OIDC_ISSUER: issuer,
    CUSTODIA_OIDC_CLIENT_ID: 'custodia',
    CUSTODIA_OIDC_CLIENT_SECRET: 'a-client-secret-for-tests-only',
    CUSTODIA_OIDC_REDIRECT_URI: `${base}/api/oidc/callback`,
    CUSTODIA_OIDC_ALLOW_HTTP: '1',
    CUSTODIA_OIDC_LABEL: 'Test IdP',
  });
  expect(settings).toBeDefined();
  api = createApi({
    client: {} as Client,
    store,
    definitions: new Map(),
    taskQueue: 'none',
    oidc: settings!,
  });
  await api.listen(apiPort);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await store?.close();
  await new Promise<void>((r) => (idp ? idp.close(() => r()) : r()));
});

/** Go through the provider's login and consent pages as `login`. */
async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.waitForURL((u) => u.href.startsWith(issuer));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('whatever the provider checks');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

/** `GET /api/me` with this browser's cookies (the JSON pages' CSP forbids fetch from them). */
async function me(page: Page): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await page.context().request.get(`${base}/api/me`);
  return { status: res.status(), body: (await res.json()) as Record<string, unknown> };
}

describe('OIDC sign-in', () => {
  it('tells clients that the provider is offered', async () => {
    const res = await fetch(`${base}/api/auth`);
    expect(await res.json()).toEqual({
      password: true,
      oidc: { label: 'Test IdP', loginUrl: '/api/oidc/login' },
    });
  });

  it('signs a directory user in through the provider (code + PKCE) and returns where asked', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/api/oidc/login?returnTo=/api/auth`);
    await signInAtProvider(page, 'olga');
    await page.waitForURL(`${base}/api/auth`);
    const who = await me(page);
    expect(who.status).toBe(200);
    expect(who.body.user).toMatchObject({ id: 'olga', roles: ['quality_manager'] });
    expect(who.body.csrfToken).toEqual(expect.any(String));
    const cookies = await context.cookies(base);
    const session = cookies.find((c) => c.name === 'custodia_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(cookies.find((c) => c.name === 'custodia_oidc')).toBeUndefined();
    await context.close();
  });

  it('refuses users the directory does not know or has disabled, and forged callbacks', async () => {
    for (const login of ['mallory', 'gone']) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${base}/api/oidc/login`);
      await signInAtProvider(page, login);
      await page.waitForURL((u) => u.href.startsWith(`${base}/api/oidc/callback`));
      const text = await page.locator('body').innerText();
      expect(text, login).toContain('OIDC_UNKNOWN_USER');
      expect((await me(page)).status).toBe(401);
      await context.close();
    }
    // A callback without the pending sign-in of this browser (e.g. a link someone was sent).
    const forged = await fetch(`${base}/api/oidc/callback?code=stolen&state=guess`);
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { code: string }).code).toBe('OIDC_NO_PENDING_SIGNIN');
    expect(forged.headers.getSetCookie().some((c) => c.startsWith('custodia_session='))).toBe(false);
  });

  it('never maps the claim onto a user not enrolled for the provider (a password or admin account)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/api/oidc/login`);
    await signInAtProvider(page, 'pat');
    await page.waitForURL((u) => u.href.startsWith(`${base}/api/oidc/callback`));
    expect(await page.locator('body').innerText()).toContain('OIDC_UNKNOWN_USER');
    expect((await me(page)).status).toBe(401);
    await context.close();
    const failed = await store.audit({ kind: 'sign_in_failed', subject: 'user:pat' });
    expect(failed.map((e) => [e.kind, e.body.reason])).toContainEqual(['sign_in_failed', 'not_oidc_user']);
  });

  it('returns to a non-Latin-1 path after sign-in (percent-encoded), with a working session', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/api/oidc/login?returnTo=${encodeURIComponent('/api/auth?收件箱=é')}`);
    await signInAtProvider(page, 'olga');
    await page.waitForURL((u) => u.pathname === '/api/auth');
    expect(new URL(page.url()).search).toBe('?%E6%94%B6%E4%BB%B6%E7%AE%B1=%C3%A9');
    expect((await me(page)).status).toBe(200);
    await context.close();
  });

  it('never redirects outside the site after sign-in', () => {
    expect(safeReturnTo('/inbox?x=1')).toBe('/inbox?x=1');
    for (const bad of [
      'https://evil.example/',
      '//evil.example/',
      '/\\evil.example',
      'inbox',
      '/a\nb',
      undefined,
    ])
      expect(safeReturnTo(bad)).toBe('/');
  });

  it('checks its settings', () => {
    expect(oidcSettings({})).toBeUndefined();
    expect(() => oidcSettings({ CUSTODIA_OIDC_ISSUER: 'https://idp.example' })).toThrow(
      /CUSTODIA_OIDC_REDIRECT_URI/,
    );
    expect(() =>
      oidcSettings({
        CUSTODIA_OIDC_ISSUER: 'http://idp.example',
        CUSTODIA_OIDC_CLIENT_ID: 'c',
        CUSTODIA_OIDC_REDIRECT_URI: 'https://custodia.example/api/oidc/callback',
      }),
    ).toThrow(/must be https/);
    expect(() =>
      oidcSettings({
        CUSTODIA_OIDC_ISSUER: 'https://idp.example',
        CUSTODIA_OIDC_CLIENT_ID: 'c',
        CUSTODIA_OIDC_REDIRECT_URI: 'https://custodia.example/elsewhere',
      }),
    ).toThrow(/api\/oidc\/callback/);
  });
});
