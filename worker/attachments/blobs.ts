/**
 * The bytes of attached files kept in a configured folder instead of the records store:
 * `<dir>/<first two hex digits>/<sha256>`, written once (to a temporary name, then renamed), owner
 * only (files 0600, folders 0700). Reading recomputes the SHA-256: a file changed on disk is
 * refused, never served as the one the audit chain names.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export class AttachmentCorrupt extends Error {
  override name = 'AttachmentCorrupt';
}

function fileOf(dir: string, sha256: string): string {
  return path.join(dir, sha256.slice(0, 2), sha256);
}

/** Keep `content` (whose SHA-256 is `sha256`) in `dir`; nothing is written when it is already there. */
export async function writeBlob(dir: string, sha256: string, content: Uint8Array): Promise<void> {
  const file = fileOf(dir, sha256);
  const there = await stat(file).catch(() => undefined);
  if (there?.size === content.length) return;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${randomUUID()}.part`;
  await writeFile(temp, content, { mode: 0o600, flag: 'wx' });
  await rename(temp, file);
}

/** The bytes of `sha256` from `dir`, checked against their hash. */
export async function readBlob(dir: string, sha256: string): Promise<Uint8Array> {
  const content = new Uint8Array(await readFile(fileOf(dir, sha256)));
  verifyContent(sha256, content);
  return content;
}

/** Throw `AttachmentCorrupt` unless `content` hashes to `sha256`. */
export function verifyContent(sha256: string, content: Uint8Array): void {
  const actual = createHash('sha256').update(content).digest('hex');
  if (actual !== sha256)
    throw new AttachmentCorrupt(`the stored file ${sha256} no longer hashes to its name (now ${actual})`);
}
