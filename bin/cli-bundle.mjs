// Is a prebuilt bundle (bin/build-cli.mjs) up to date? Plain JavaScript with no dependencies, run
// by the launchers (bin/custodia.mjs for the CLI, bin/launch.mjs for `npm start` and
// `npm run worker`) on every start before anything else is loaded. The one home of that rule.
//
// One build holds several entries (the CLI, the server, the worker process); the manifest lists,
// per entry, every source file that went into its part of the bundle. An entry's bundle runs only
// if every one of its source files is unchanged: same size, mtime and ctime as recorded (a stat
// per file, ~1 ms for the server's ~500; the ctime changes with any write and cannot be set back,
// unlike the mtime), or — when only the times differ (a checkout, a touch) — the same SHA-256 of
// its content. Anything else (a file edited, deleted, a missing or unreadable manifest, an entry
// not in it) means "not fresh": the caller then runs the TypeScript sources. A new source file can
// only change the program through an edit to a file already listed.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE_DIR = 'dist/bundle';
export const MANIFEST = 'manifest.json';
/** The entry points built into the bundle (sources, relative to the repository root). */
export const ENTRIES = ['worker/cli/main.ts', 'worker/main.ts', 'worker/worker-main.ts'];

/** The bundle's output file of a source entry (`worker/main.ts` → `worker/main.mjs`). */
export function outputOf(source) {
  return source.replace(/\.[cm]?tsx?$/, '.mjs');
}

/**
 * `{ entry }`: absolute path of the bundled `source` (one of ENTRIES) when every source file that
 * went into it is unchanged; else `{ entry: undefined, reason }`.
 */
export function freshBundle(root = ROOT, source = 'worker/cli/main.ts') {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(root, BUNDLE_DIR, MANIFEST), 'utf8'));
  } catch {
    return { entry: undefined, reason: 'no bundle (run `npm run build:bundle`)' };
  }
  const part = manifest.entries?.[source];
  if (!part || typeof part.output !== 'string' || !Array.isArray(part.sources) || !part.sources.length)
    return { entry: undefined, reason: `the bundle has no ${source}` };
  for (const rel of part.sources) {
    const want = manifest.files?.[rel];
    if (!want) return { entry: undefined, reason: 'the bundle manifest is incomplete' };
    const file = path.join(root, rel);
    let st;
    try {
      st = statSync(file);
    } catch {
      return { entry: undefined, reason: `${rel} is gone` };
    }
    if (st.size !== want.size) return { entry: undefined, reason: `${rel} changed` };
    if (st.mtimeMs === want.mtimeMs && st.ctimeMs === want.ctimeMs) continue;
    const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
    if (sha256 !== want.sha256) return { entry: undefined, reason: `${rel} changed` };
  }
  return { entry: path.join(root, BUNDLE_DIR, part.output), reason: undefined };
}

/** Where Node keeps the compiled code of the modules it loads (`module.enableCompileCache`). */
export const COMPILE_CACHE_DIR = 'data/compile-cache';

/**
 * Run `source` (one of ENTRIES): its bundle when fresh, else the TypeScript source through tsx's
 * loader — so a stale bundle never runs old code. Node's compile cache is on (V8's code cache of
 * every module, checked against the module's text; ~25% less CPU loading the server's modules).
 * Resolves with how it ran (`bundle` or `sources`) once the entry module has been evaluated.
 */
export async function runEntry(source, root = ROOT) {
  if (!ENTRIES.includes(source)) throw new Error(`not a bundled entry point: ${source}`);
  const { pathToFileURL } = await import('node:url');
  const { enableCompileCache } = await import('node:module');
  // Best effort: a read-only checkout runs without it (Node returns a status, never throws).
  enableCompileCache?.(path.join(root, COMPILE_CACHE_DIR));
  const bundle = freshBundle(root, source);
  if (bundle.entry) {
    await import(pathToFileURL(bundle.entry).href);
    return 'bundle';
  }
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(path.join(root, source)).href);
  return 'sources';
}
