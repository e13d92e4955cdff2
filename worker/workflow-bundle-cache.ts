/**
 * The workflow bundle remembered on disk: webpack-bundling the workflow code (`workflowBundle`,
 * worker.ts) takes seconds of every worker start, and its output is a function of the sources
 * that go in, the bundler's configuration and the trusted actor keys compiled in. With this cache
 * only the first start after a change bundles.
 *
 * Key: SHA-256 of every file under `workflows/` (the entry point and all it imports of ours), the
 * definition JSON Schema (imported by the loader), `worker/worker.ts` and this file (the bundler's
 * options: preloaded modules, plugins), `package-lock.json` (the exact version of every package
 * bundled and of the bundler) and the actor keys. A change to any of them is another key, so an
 * entry is never stale. Entries live in `data/workflow-bundle/` (git-ignored), one `.js` file
 * each (its first line names the key), the 4 most recent kept; writing is best effort, an
 * unreadable entry is rebuilt.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './settings.ts';

export const WORKFLOW_BUNDLE_CACHE_DIR = path.join(REPO_ROOT, 'data', 'workflow-bundle');
/** Bundles kept in the folder at most (older ones are removed when a new one is written). */
const KEEP = 4;

/** Hash of what the bundle is made of (see above), without the keys. */
export function bundleSourcesId(root = REPO_ROOT): string {
  const hash = createHash('sha256');
  const add = (rel: string): void => {
    hash.update(`${rel}\n`);
    try {
      hash.update(readFileSync(path.join(root, rel)));
    } catch {
      hash.update('(missing)');
    }
    hash.update('\0');
  };
  const walk = (dir: string): void => {
    const entries = readdirSync(path.join(root, dir), { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
    for (const entry of entries) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else add(rel);
    }
  };
  walk('workflows');
  for (const rel of [
    'definitions/schema/procedure.schema.json',
    'worker/worker.ts',
    'worker/workflow-bundle-cache.ts',
    'worker/workflow-bundle-options.ts',
    'package-lock.json',
  ])
    add(rel);
  return hash.digest('hex');
}

/**
 * The bundle for `keys`: read from `dir` when one was built from the same sources, else
 * `build()` and remember its code (older entries of the folder are removed).
 */
export async function cachedBundle(
  keys: string,
  build: () => Promise<{ code: string }>,
  dir = WORKFLOW_BUNDLE_CACHE_DIR,
  sources = bundleSourcesId(),
): Promise<{ code: string }> {
  const key = createHash('sha256').update(sources).update('\0').update(keys).digest('hex');
  const file = path.join(dir, `${key}.js`);
  const header = `// custodia workflow bundle ${key}\n`;
  try {
    const text = readFileSync(file, 'utf8');
    if (text.startsWith(header)) return { code: text.slice(header.length) };
  } catch {
    // not cached (or unreadable): bundle
  }
  const { code } = await build();
  try {
    mkdirSync(dir, { recursive: true });
    // Keep the few most recent others (several processes may trust different keys), drop the rest.
    const others = readdirSync(dir)
      .filter((f) => f !== `${key}.js`)
      .map((f) => ({ f, at: statSync(path.join(dir, f)).mtimeMs }))
      .sort((a, b) => b.at - a.at);
    for (const { f } of others.slice(KEEP - 1)) rmSync(path.join(dir, f), { force: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, header + code);
    renameSync(tmp, file);
  } catch {
    // a read-only checkout: the bundle is still right, only not remembered
  }
  return { code };
}
