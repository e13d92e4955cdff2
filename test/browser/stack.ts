/**
 * The real stack a browser test drives, in this process: a worker on the run's Temporal server
 * (its own task queue, an in-memory embedded records store), the HTTP API on a free port serving
 * the UI built by the project's global setup at `/`, and Debian's Chromium driven by
 * playwright-core (never a downloaded browser).
 *
 * - `startStack({ definitions, users })`: everything up; `stack.close()` takes it down.
 * - `stack.open(userId, lang)`: a fresh browser context (its own cookies), the UI in `lang`,
 *   signed in through the sign-in form. Its console, page errors and failed requests are kept;
 *   when the running test fails, every page opened in it is saved to `artifacts/` as
 *   `FAILED-<test>-<user>.png` + `.log`.
 * - `shot(page, name)`: `artifacts/<name>.png`; `shotBoth` in en + zh. With CUSTODIA_SCREENSHOTS=<dir> (see
 *   `npm run screenshots`) the README's chosen ones are also copied into that folder.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inject, onTestFailed } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import type { Client } from '@temporalio/client';
import { createApi, type Api } from '../../worker/api/server.ts';
import { REPO_ROOT } from '../../worker/config.ts';
import { loadProcedureClauses, type LoadedDefinition } from '../../worker/definitions.ts';
import { loadDeployedDefinitions, runWorker, type RunningWorker } from '../../worker/process.ts';
import type { RecordsStore, Role } from '../../worker/records/types.ts';
import { SHIPPED_DEFINITIONS, sharedBundle, testConfig } from '../integration/harness.ts';

export const ARTIFACTS = path.join(REPO_ROOT, 'test/browser/artifacts');
/** The only password of the test users (≥ 12 characters). */
export const PASSWORD = 'correct horse battery staple';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
];
/** Playwright's own waits (auto-waiting locators, navigation): generous but bounded. */
export const UI_TIMEOUT_MS = 15_000;

export type Lang = 'zh' | 'en';

export interface Stack {
  url: string;
  browser: Browser;
  client: Client;
  store: RecordsStore;
  definitions: Map<string, LoadedDefinition>;
  taskQueue: string;
  running: RunningWorker;
  /** Unexpected (5xx) errors the API reported: tests expect none. */
  serverErrors: unknown[];
  /** A new browser context showing the UI in `lang`, signed in as `userId` (null: not signed in). */
  open(userId: string | null, lang?: Lang): Promise<Page>;
  close(): Promise<void>;
}

export interface TestUser {
  id: string;
  displayName: string;
  roles: readonly Role[];
  clients?: readonly string[];
  password?: string;
}

export interface StackOptions {
  /** The definitions the worker runs and the API offers (default: the shipped `definitions/`). */
  definitions?: Map<string, LoadedDefinition>;
  /** Users to create (password: PASSWORD unless given). */
  users: readonly TestUser[];
  /** Sign audit checkpoints with a key in this folder (evidence packs need one); default none. */
  checkpointDir?: string;
  /** One admin deploys at once (CUSTODIA_SINGLE_ADMIN_DEPLOY; default: a second admin approves). */
  singleAdminDeploy?: boolean;
}

/** The shipped definitions with the given ids only (a definition being edited elsewhere cannot break a test). */
export function shippedDefinitions(...ids: string[]): Map<string, LoadedDefinition> {
  return loadDeployedDefinitions(ids.map((id) => path.join(SHIPPED_DEFINITIONS, `${id}.yaml`)));
}

const log = (line: string): void => {
  if (process.env.CUSTODIA_BROWSER_LOG) console.error(`[browser] ${line}`);
};

export async function startStack(opts: StackOptions): Promise<Stack> {
  const started = Date.now();
  const { config, address } = testConfig(`browser-${Math.random().toString(36).slice(2, 10)}`);
  const definitions = opts.definitions ?? loadDeployedDefinitions([SHIPPED_DEFINITIONS]);
  // A neutral deployer for the definition files (the screenshots show it), not this machine's user@host.
  const running = await runWorker(config, {
    address,
    records: opts.checkpointDir
      ? {
          dataDir: null,
          checkpoints: {
            keyFile: path.join(opts.checkpointDir, 'audit-checkpoint.key'),
            logFile: path.join(opts.checkpointDir, 'audit-checkpoints.jsonl'),
            every: 0,
          },
        }
      : null,
    definitions,
    deployedBy: 'files:definitions/',
    bundle: sharedBundle(),
  });
  const cleanups: (() => Promise<unknown>)[] = [() => running.shutdown()];
  const closeAll = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) await fn().catch((err: unknown) => console.error(err));
  };
  try {
    for (const u of opts.users)
      await running.store.createUser(
        {
          id: u.id,
          displayName: u.displayName,
          roles: [...u.roles],
          clients: [...(u.clients ?? [])],
          password: u.password ?? PASSWORD,
        },
        'browser-test',
      );
    const serverErrors: unknown[] = [];
    const api: Api = createApi({
      client: running.client,
      store: running.store,
      definitions,
      taskQueue: config.taskQueue,
      uiDir: inject('uiDir'),
      clauses: loadProcedureClauses([SHIPPED_DEFINITIONS]),
      singleAdminDeploy: opts.singleAdminDeploy ?? false,
      onError: (err) => {
        serverErrors.push(err);
        console.error('[browser] API error:', err);
      },
    });
    const url = await api.listen(0, '127.0.0.1');
    cleanups.push(() => api.close());
    const browser = await chromium.launch({
      executablePath: inject('chromiumPath'),
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 30_000,
    });
    cleanups.push(() => browser.close());
    log(`stack up in ${Date.now() - started} ms at ${url}`);

    let contexts: BrowserContext[] = [];
    return {
      url,
      browser,
      client: running.client,
      store: running.store,
      definitions,
      taskQueue: config.taskQueue,
      running,
      serverErrors,
      async open(userId, lang = 'en') {
        const context = await browser.newContext({
          baseURL: url,
          locale: lang === 'zh' ? 'zh-CN' : 'en-US',
          viewport: { width: 1280, height: 860 },
          deviceScaleFactor: 1,
        });
        contexts.push(context);
        context.setDefaultTimeout(UI_TIMEOUT_MS);
        context.setDefaultNavigationTimeout(UI_TIMEOUT_MS);
        await context.addInitScript(
          `try { if (!localStorage.getItem('custodia.lang')) localStorage.setItem('custodia.lang', ${JSON.stringify(lang)}); } catch {}`,
        );
        const page = await context.newPage();
        watch(page, userId ?? 'anonymous');
        await page.goto('/');
        if (userId !== null) await signIn(page, userId);
        return page;
      },
      async close() {
        for (const c of contexts) await c.close().catch(() => {});
        contexts = [];
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** Sign in through the UI's form (labels "User ID" / "Password", button "Sign in"). */
export async function signIn(page: Page, userId: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('User ID').fill(userId);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('User ID').waitFor({ state: 'detached' });
}

/**
 * The text of every element `locator` matches now (joined by newlines; '' when none) — it does
 * not wait, so it suits `expect.poll(() => textOf(…))`, which retries until the text is there.
 */
export async function textOf(locator: Locator): Promise<string> {
  return (await locator.allInnerTexts()).join('\n');
}

// ---------------------------------------------------------------------------------------------
// What a page did (for failures) and screenshots
// ---------------------------------------------------------------------------------------------

const pageLogs = new WeakMap<Page, string[]>();

function safeName(s: string): string {
  return s.replace(/[^\w.-]+/g, '_').slice(0, 80);
}

/** Keep the page's console, errors and failed requests; on a test failure save a screenshot + log. */
function watch(page: Page, who: string): void {
  const lines: string[] = [];
  pageLogs.set(page, lines);
  const at = (): string => new Date().toISOString().slice(11, 23);
  page.on('console', (m) => lines.push(`${at()} console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => lines.push(`${at()} pageerror: ${e.stack ?? e.message}`));
  page.on('requestfailed', (r) =>
    lines.push(`${at()} requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`),
  );
  page.on('response', (r) => {
    if (r.status() >= 400) lines.push(`${at()} HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  try {
    onTestFailed(async ({ task }) => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const base = path.join(ARTIFACTS, `FAILED-${safeName(task.name)}-${safeName(who)}`);
      const header = `test: ${task.name}\nuser: ${who}\nurl: ${page.isClosed() ? '(closed)' : page.url()}\n\n`;
      writeFileSync(`${base}.log`, header + lines.join('\n') + '\n');
      if (!page.isClosed())
        await page.screenshot({ path: `${base}.png`, fullPage: true, timeout: 5_000 }).catch(() => {});
    });
  } catch {
    // opened outside a test (beforeAll): nothing to attach the failure hook to
  }
}

/** The page's console/error lines so far (e.g. to print in an assertion message). */
export function consoleOf(page: Page): string {
  return (pageLogs.get(page) ?? []).join('\n');
}

/**
 * README screenshots: `<name>` → `docs/screenshots/<name>.png` when CUSTODIA_SCREENSHOTS is set
 * (to a folder, relative to the repo; `1` means docs/screenshots).
 */
function readmeDir(): string | undefined {
  const v = process.env.CUSTODIA_SCREENSHOTS?.trim();
  if (!v || v === '0') return undefined;
  return path.resolve(REPO_ROOT, v === '1' ? 'docs/screenshots' : v);
}

/**
 * Save `artifacts/<name>.png`; `readme`: one of the README's screenshots, also copied into
 * CUSTODIA_SCREENSHOTS's folder when that is set.
 */
export async function shot(page: Page, name: string, opts: { readme?: boolean } = {}): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.evaluate('document.fonts.ready.then(() => true)');
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled', caret: 'hide' });
  const docs = opts.readme ? readmeDir() : undefined;
  if (docs) {
    mkdirSync(docs, { recursive: true });
    copyFileSync(file, path.join(docs, `${name}.png`));
  }
  return file;
}

/** Switch the UI's language the way a user does, or by the remembered setting and a reload. */
export async function setLang(page: Page, lang: Lang): Promise<void> {
  const want = lang === 'zh' ? 'zh-CN' : 'en';
  if ((await page.locator('html').getAttribute('lang')) === want) return;
  const switcher = page.getByRole('button', { name: lang === 'zh' ? '中文' : 'English', exact: true });
  if (await switcher.count()) await switcher.first().click();
  else {
    await page.evaluate(`localStorage.setItem('custodia.lang', ${JSON.stringify(lang)})`);
    await page.reload();
  }
  await page.waitForFunction(`document.documentElement.lang === ${JSON.stringify(want)}`);
}

/**
 * The README's screenshots of the current view in English and Chinese (`<name>.en.png`,
 * `<name>.zh.png`); `ready(lang)` is awaited after each switch (e.g. a heading in that language is
 * visible). Leaves the page in English.
 */
export async function shotBoth(
  page: Page,
  name: string,
  ready: (lang: Lang) => Promise<unknown>,
): Promise<void> {
  for (const lang of ['en', 'zh'] as const) {
    await setLang(page, lang);
    await ready(lang);
    // Diagrams lay out again in the new language (debounced, asynchronous): wait for them.
    await page.waitForFunction(
      `[...document.querySelectorAll('.diagram')].every((d) => d.getAttribute('data-layout-lang') === ${JSON.stringify(lang)})`,
    );
    await shot(page, `${name}.${lang}`, { readme: true });
  }
  await setLang(page, 'en');
  await ready('en');
}
