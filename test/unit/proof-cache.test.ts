/**
 * Proofs remembered on disk (`worker/proof-cache.ts`): the first proof of an IR is computed and
 * written, the next one read back (equal to a fresh proof); another IR, other options or other
 * verifier code is another entry; a corrupt entry is recomputed. Real files in a temporary folder.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProcedureIR } from '../../workflows/core/ir.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import { verifyProcedure } from '../../workflows/core/verify.ts';
import { cachedVerify, verifierCodeId } from '../../worker/proof-cache.ts';

const fixture = (name: string): ProcedureIR => {
  const file = fileURLToPath(new URL(`../fixtures/verify/${name}.yaml`, import.meta.url));
  return validateProcedureText(readFileSync(file, 'utf8'), `${name}.yaml`).ir as ProcedureIR;
};

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('proof cache', () => {
  it('computes once, then reads the same result back; options and code are part of the key', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'custodia-proofs-'));
    const ir = fixture('broken-must_pass');
    const fresh = verifyProcedure(ir);
    expect(cachedVerify(ir, {}, dir)).toEqual(fresh);
    const [entry] = readdirSync(dir);
    expect(readdirSync(dir)).toHaveLength(1);
    // Read back from the file: an entry edited on disk is what the cache answers.
    const file = path.join(dir, entry as string);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { result: { explored: number } };
    stored.result.explored = -1;
    writeFileSync(file, JSON.stringify(stored));
    expect(cachedVerify(ir, {}, dir).explored).toBe(-1);
    // Other options, other code, another IR: other entries, computed afresh.
    expect(cachedVerify(ir, { maxDepth: 2 }, dir).explored).toBe(
      verifyProcedure(ir, { maxDepth: 2 }).explored,
    );
    expect(cachedVerify(ir, {}, dir, 'other code').explored).toBe(fresh.explored);
    expect(cachedVerify(fixture('disclosure'), {}, dir).invariants.every((r) => r.holds)).toBe(true);
    expect(readdirSync(dir)).toHaveLength(4);
  });

  it('a corrupt entry is recomputed', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'custodia-proofs-'));
    const ir = fixture('disclosure');
    cachedVerify(ir, {}, dir);
    const [entry] = readdirSync(dir);
    writeFileSync(path.join(dir, entry as string), '{ not json');
    expect(cachedVerify(ir, {}, dir)).toEqual(verifyProcedure(ir));
  });

  it('the code identity covers workflows/core (a hash, stable within a process)', () => {
    expect(verifierCodeId()).toMatch(/^[0-9a-f]{64}$/);
    expect(verifierCodeId()).toBe(verifierCodeId());
  });
});
