// Is the CLI bundle (bin/build-cli.mjs) up to date? Plain JavaScript with no dependencies, run
// by bin/custodia.mjs on every start before anything else is loaded.
//
// The bundle runs only if every source file that went into it is unchanged: same size, mtime
// and ctime as recorded (a stat per file, ~1 ms for the whole CLI; the ctime changes with any
// write and cannot be set back, unlike the mtime), or — when only the times differ (a checkout,
// a touch) — the same SHA-256 of its content. Anything else (a file edited, deleted, a
// missing or unreadable manifest) means "not fresh": the caller then runs the TypeScript sources.
// A new source file can only change the program through an edit to a file already listed.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE_DIR = 'dist/cli';
export const MANIFEST = 'manifest.json';

/** `{ entry }`: absolute path of the bundle's entry when it is fresh; else `{ entry: undefined, reason }`. */
export function freshBundle(root = ROOT) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(root, BUNDLE_DIR, MANIFEST), 'utf8'));
  } catch {
    return { entry: undefined, reason: 'no bundle (run `npm run build:cli`)' };
  }
  const files = Object.entries(manifest.files ?? {});
  if (!files.length || typeof manifest.entry !== 'string')
    return { entry: undefined, reason: 'the bundle manifest is incomplete' };
  for (const [rel, want] of files) {
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
  return { entry: path.join(root, BUNDLE_DIR, manifest.entry), reason: undefined };
}
