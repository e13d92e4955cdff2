/**
 * The built web UI that `npm start` serves: `ui/dist`, rebuilt with Vite when it is missing or
 * older than its sources (`ui/`, `workflows/core/`), so a fresh clone needs no extra step.
 * `CUSTODIA_UI_DIR` serves another folder as is (no build); `CUSTODIA_UI_DIR=off` serves no UI.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, uiDirSetting } from './settings.ts';

const SOURCES = ['ui/src', 'ui/index.html', 'ui/vite.config.ts', 'workflows/core'];

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of readdirSync(p)) max = Math.max(max, newestMtime(path.join(p, name)));
  return max;
}

/** The folder to serve, built first when needed; undefined when the UI is switched off. */
export async function ensureUiBuilt(
  env?: NodeJS.ProcessEnv,
  log: (line: string) => void = console.log,
): Promise<string | undefined> {
  const configured = uiDirSetting(env);
  if (configured.kind === 'off') return undefined;
  if (configured.kind === 'dir') return configured.dir;
  const dist = path.join(REPO_ROOT, 'ui', 'dist');
  const index = path.join(dist, 'index.html');
  const builtAt = existsSync(index) ? statSync(index).mtimeMs : 0;
  const sourcesAt = Math.max(...SOURCES.map((s) => newestMtime(path.join(REPO_ROOT, s))));
  if (builtAt && builtAt >= sourcesAt) return dist;
  log(builtAt ? 'custodia: the web UI changed; rebuilding ui/dist …' : 'custodia: building the web UI …');
  const { build } = await import('vite');
  await build({ configFile: path.join(REPO_ROOT, 'ui', 'vite.config.ts'), logLevel: 'warn' });
  return dist;
}
