/**
 * Vitest global setup of the `browser` project:
 *
 * 1. Chromium: Debian's (never a downloaded one); the run fails at once, naming the fix, when it
 *    is missing — browser tests never skip.
 * 2. Temporal: `test/integration/global-setup.ts`, run for this project (same provided values:
 *    `inject('temporalAddress')` …). Vitest runs each project's global setup separately (one after
 *    the other, in the main process, in no fixed order), so:
 *    - when TEMPORAL_ADDRESS names a cluster, this uses it;
 *    - otherwise (also when the `integration` project's setup already started its dev servers:
 *      browser files run beside integration files, see vitest.config.ts) this starts the
 *      project's own, one per lane (each file takes its lane's, `lane-env.ts`), then puts
 *      `process.env` back as it was, so a later `integration` setup still starts (and owns) its
 *      own, and the integration tests never see a server that is not theirs.
 * 3. The web UI, built once with Vite into a temporary folder (not `ui/dist`, which `npm start`
 *    may be serving), that every test file's API serves at `/`.
 *
 * Tests read `inject('uiDir')` and `inject('chromiumPath')` besides the Temporal values.
 * Env: CUSTODIA_CHROMIUM (another Chromium binary), CUSTODIA_BROWSER_UI_DIR (serve an already
 * built UI folder as is, no build — for quick local iterations).
 */
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { REPO_ROOT } from '../../worker/config.ts';
import temporalSetup from '../integration/global-setup.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The built web UI the tests' API serves. */
    uiDir: string;
    /** The Chromium binary Playwright drives. */
    chromiumPath: string;
  }
}

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

const TEMPORAL_ENV = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_BINARY',
  'TEST_TEMPORAL_LANES',
] as const;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const chromium = process.env.CUSTODIA_CHROMIUM?.trim() || DEFAULT_CHROMIUM;
  try {
    accessSync(chromium, constants.X_OK);
  } catch {
    throw new Error(
      `browser tests: no Chromium at ${chromium} — install Debian's package (apt-get install chromium; ` +
        `.ci/run does) or set CUSTODIA_CHROMIUM. Browsers are never downloaded.`,
    );
  }
  project.provide('chromiumPath', chromium);

  const before = Object.fromEntries(TEMPORAL_ENV.map((k) => [k, process.env[k]]));
  // The integration project's own dev servers (TEST_TEMPORAL_LANES set) are not reused: browser
  // files run beside integration files, and a server's leftover instances of a procedure would
  // show in another project's counts (e.g. migration_intake in migration.int and .browser).
  if (process.env.TEST_TEMPORAL_LANES) for (const k of TEMPORAL_ENV) delete process.env[k];
  const reuse = Boolean(process.env.TEMPORAL_ADDRESS?.trim());
  const stopTemporal = await temporalSetup(project);
  if (process.env.CUSTODIA_BROWSER_LOG)
    console.error(
      `[browser] Temporal at ${project.getProvidedContext().temporalAddress} (${reuse ? 'reused' : "the project's own"})`,
    );
  if (!reuse)
    for (const k of TEMPORAL_ENV) {
      if (before[k] === undefined) delete process.env[k];
      else process.env[k] = before[k];
    }
  const teardown: (() => Promise<void> | void)[] = [stopTemporal];
  const done = async (): Promise<void> => {
    for (const fn of teardown.reverse()) await fn();
  };

  const given = process.env.CUSTODIA_BROWSER_UI_DIR?.trim();
  if (given) {
    const dir = path.resolve(REPO_ROOT, given);
    if (!existsSync(path.join(dir, 'index.html')))
      throw new Error(`CUSTODIA_BROWSER_UI_DIR=${given}: no index.html there`);
    project.provide('uiDir', dir);
    return done;
  }
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'custodia-browser-ui-'));
  const started = Date.now();
  teardown.push(() => rmSync(outDir, { recursive: true, force: true }));
  const { build } = await import('vite');
  await build({
    configFile: path.join(REPO_ROOT, 'ui', 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, sourcemap: false },
  });
  if (process.env.CUSTODIA_BROWSER_LOG) console.error(`[browser] UI built in ${Date.now() - started} ms`);
  project.provide('uiDir', outDir);
  return done;
}
