/**
 * Proofs remembered on disk: `verifyProcedure` is pure and deterministic, so its result for one IR
 * and one set of options is a function of those and of the verifier's code. The CLI's `validate`,
 * `verify` and `start` and the worker's start prove the same unchanged definitions again and
 * again; with this cache only the first does the work.
 *
 * Key: SHA-256 of the code identity (every source file of `workflows/core` — the verifier and what
 * it evaluates with — and the CEL evaluator's version), the options and the IR. A change to any of
 * them is a different key, so an entry is never stale; a corrupt or unreadable entry is recomputed.
 * Entries live in `data/proof-cache/` (git-ignored), one JSON file each; writing is best effort.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './settings.ts';
import type { ProcedureIR } from '../workflows/core/ir.ts';
import { verifyProcedure, type VerifyOptions, type VerifyResult } from '../workflows/core/verify.ts';

export const PROOF_CACHE_DIR = path.join(REPO_ROOT, 'data', 'proof-cache');

let codeIdentity: string | undefined;

/** Hash of the verifier's code: every `workflows/core` source file and the CEL evaluator's version. */
export function verifierCodeId(root = REPO_ROOT): string {
  if (codeIdentity && root === REPO_ROOT) return codeIdentity;
  const hash = createHash('sha256');
  const core = path.join(root, 'workflows', 'core');
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.ts'))
        hash.update(`${path.relative(core, file)}\n`).update(readFileSync(file));
    }
  };
  walk(core);
  try {
    const cel = JSON.parse(
      readFileSync(path.join(root, 'node_modules', '@marcbachmann', 'cel-js', 'package.json'), 'utf8'),
    ) as { version?: string };
    hash.update(`cel-js ${cel.version ?? '?'}`);
  } catch {
    hash.update('cel-js ?');
  }
  const id = hash.digest('hex');
  if (root === REPO_ROOT) codeIdentity = id;
  return id;
}

/** `verifyProcedure(ir, opts)`, from the cache in `dir` when this exact proof was done before. */
export function cachedVerify(
  ir: ProcedureIR,
  opts: VerifyOptions = {},
  dir = PROOF_CACHE_DIR,
  code = verifierCodeId(),
): VerifyResult {
  const key = createHash('sha256')
    .update(code)
    .update('\0')
    .update(JSON.stringify(opts))
    .update('\0')
    .update(JSON.stringify(ir))
    .digest('hex');
  const file = path.join(dir, `${key}.json`);
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { key?: string; result?: VerifyResult };
    if (cached.key === key && cached.result && Array.isArray(cached.result.invariants)) return cached.result;
  } catch {
    // not cached (or unreadable): prove
  }
  const result = verifyProcedure(ir, opts);
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ key, procedure: ir.id, version: ir.version, result }));
    renameSync(tmp, file);
  } catch {
    // a read-only checkout: the proof is still correct, only not remembered
  }
  return result;
}
