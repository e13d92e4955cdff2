/**
 * Validation remembered on disk (`worker/validation-cache.ts`): every shipped definition validated
 * through the cache — first computed, then read back — gives the same IR, hash and diagnostics as
 * a fresh `validateProcedureText`, and the same source positions (parsed again only when asked);
 * an invalid text is remembered with its diagnostics; text, file name and code are in the key; a
 * corrupt entry is recomputed. Real files in a temporary folder.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { definitionFiles } from '../../worker/definitions.ts';
import { REPO_ROOT } from '../../worker/settings.ts';
import { cachedValidate, validatorCodeId } from '../../worker/validation-cache.ts';
import { hashProcedure } from '../../workflows/core/hash.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const shipped = definitionFiles([path.join(REPO_ROOT, 'definitions')]).map((file) => ({
  text: readFileSync(file, 'utf8'),
  file: path.relative(REPO_ROOT, file),
}));

describe('validation cache', () => {
  it('answers every shipped definition as a fresh validation does, first computed, then read back', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'custodia-validation-'));
    expect(shipped.length).toBeGreaterThanOrEqual(10);
    for (const round of ['computed', 'read back']) {
      for (const { text, file } of shipped) {
        const fresh = validateProcedureText(text, file);
        const cached = cachedValidate(text, file, dir);
        expect(cached.diagnostics, `${file} (${round})`).toEqual(fresh.diagnostics);
        expect(fresh.ir, file).toBeDefined();
        expect(JSON.stringify(cached.ir)).toBe(JSON.stringify(fresh.ir));
        expect(hashProcedure(cached.ir!)).toBe(hashProcedure(fresh.ir!));
        for (const pointer of ['/id', '/invariants/0', '/states'])
          expect(cached.positions!.value(pointer)).toEqual(fresh.positions!.value(pointer));
        expect(cached.positions!.key('/version')).toEqual(fresh.positions!.key('/version'));
      }
      expect(readdirSync(dir)).toHaveLength(shipped.length);
    }
  }, 60_000);

  it('reads the entry on disk; an invalid text keeps its diagnostics; file, text and code are in the key', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'custodia-validation-'));
    const broken = 'id: broken\nversion: 1.0.0\nstates: [\n';
    const fresh = validateProcedureText(broken, 'broken.yaml');
    expect(fresh.diagnostics.some((d) => d.severity === 'error')).toBe(true);
    expect(cachedValidate(broken, 'broken.yaml', dir)).toEqual(fresh);
    const [entry] = readdirSync(dir);
    const file = path.join(dir, entry as string);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as {
      result: { diagnostics: { message: string }[] };
    };
    stored.result.diagnostics[0]!.message = 'from the cache';
    writeFileSync(file, JSON.stringify(stored));
    expect(cachedValidate(broken, 'broken.yaml', dir).diagnostics[0]!.message).toBe('from the cache');
    // Another file name, another text, other code: other entries, computed afresh.
    expect(cachedValidate(broken, 'other.yaml', dir).diagnostics[0]!.file).toBe('other.yaml');
    expect(cachedValidate(`${broken}\n`, 'broken.yaml', dir).diagnostics[0]!.message).not.toBe(
      'from the cache',
    );
    expect(cachedValidate(broken, 'broken.yaml', dir, 'other code').diagnostics).toEqual(fresh.diagnostics);
    expect(readdirSync(dir)).toHaveLength(4);
    // A corrupt entry is recomputed.
    writeFileSync(file, '{ not json');
    expect(cachedValidate(broken, 'broken.yaml', dir)).toEqual(fresh);
    expect(validatorCodeId()).toMatch(/^[0-9a-f]{64}$/);
  });
});
