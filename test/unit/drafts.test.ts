/**
 * The one draft pipeline (`assessDraft`): load → check → prove → start targets. What the API's
 * validate route reports is what deploy and the worker accept, because they all call it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assessDraft, assessDrafts, draftReport, type LoadedDefinition } from '../../worker/drafts.ts';
import { REPO_ROOT } from '../../worker/settings.ts';

const ENGINE = path.join(REPO_ROOT, 'test/fixtures/engine');
const REVIEW = readFileSync(path.join(ENGINE, 'review.yaml'), 'utf8');
const CASE = readFileSync(path.join(ENGINE, 'case.yaml'), 'utf8');

function known(...drafts: [string, string][]): Map<string, LoadedDefinition> {
  const set = assessDrafts(drafts.map(([yaml, file]) => ({ yaml, file })));
  expect(set.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return set.definitions;
}

describe('assessDraft', () => {
  it('a draft that loads, checks and proves is valid, with its definition and proof', () => {
    const a = assessDraft(CASE, 'case.yaml', new Map());
    expect(a.valid).toBe(true);
    expect(a.definition).toMatchObject({
      file: 'case.yaml',
      ir: { id: 'engine_case' },
      hash: expect.any(String),
    });
    expect(a.proof).toBeDefined();
    expect(a.proof!.every((r) => r.holds)).toBe(true);
  });

  it('checks start targets: a draft starting a procedure the product does not know is invalid', () => {
    // Alone, review.yaml loads, checks and proves; only the start-target step can refuse it.
    const alone = assessDraft(REVIEW, 'review.yaml', new Map());
    expect(alone.definition).toBeDefined();
    expect(alone.proof?.every((r) => r.holds)).toBe(true);
    expect(alone.valid).toBe(false);
    expect(alone.diagnostics).toEqual([
      expect.objectContaining({
        code: 'PROC_UNKNOWN_PROCEDURE',
        severity: 'error',
        file: 'review.yaml',
        line: 92,
        message: expect.stringMatching(/starts procedure "engine_case"/),
      }),
    ]);
    // With engine_case among the known definitions, the same draft is valid.
    expect(assessDraft(REVIEW, 'review.yaml', known([CASE, 'case.yaml'])).valid).toBe(true);
  });

  it('checks starts into the draft: a new version dropping a field another procedure starts it with', () => {
    const running = known([CASE, 'case.yaml'], [REVIEW, 'review.yaml']);
    const v2 = CASE.replace(/^ {2}reason: \{ type: string, input: true \}\n/m, '').replace(
      /^version: .*$/m,
      'version: 9.0.0',
    );
    expect(v2).not.toBe(CASE);
    const a = assessDraft(v2, 'case-v2.yaml', running);
    expect(a.valid).toBe(false);
    expect(a.diagnostics).toEqual([
      expect.objectContaining({
        code: 'PROC_UNKNOWN_PROCEDURE',
        file: 'review.yaml',
        message: expect.stringMatching(/with input "reason"/),
      }),
    ]);
  });

  it('reports load problems with positions and no definition', () => {
    const a = assessDraft(CASE.replace('target: closed', 'target: nowhere'), 'broken.yaml');
    expect(a.valid).toBe(false);
    expect(a.definition).toBeUndefined();
    expect(a.diagnostics[0]).toMatchObject({ file: 'broken.yaml', line: 22, severity: 'error' });
  });

  it('a folder: duplicate ids refused, proving limited to the procedures asked for', () => {
    const set = assessDrafts(
      [
        { yaml: CASE, file: 'a.yaml' },
        { yaml: CASE, file: 'b.yaml' },
        { yaml: REVIEW, file: 'review.yaml' },
      ],
      new Map(),
      { prove: (id) => id === 'engine_case' },
    );
    expect(set.diagnostics.map((d) => `${d.file} ${d.code}`)).toEqual(['b.yaml PROC_DUPLICATE_ID']);
    expect([...set.definitions.keys()].sort()).toEqual(['engine_case', 'engine_review']);
    expect(set.drafts.map((d) => d.proof !== undefined)).toEqual([true, false, false]);
  });
});

describe('draftReport', () => {
  it("is the API validate route's answer: valid, id, version, hash and every diagnostic", () => {
    const ok = assessDraft(CASE, 'case.yaml');
    expect(draftReport(ok)).toEqual({
      valid: true,
      id: 'engine_case',
      version: ok.definition!.ir.version,
      hash: ok.definition!.hash,
      diagnostics: [],
    });
    const garbage = draftReport(assessDraft('id: [unclosed', 'draft.yaml'));
    expect(garbage.valid).toBe(false);
    expect(garbage.id).toBeUndefined();
    expect(garbage.diagnostics.length).toBeGreaterThan(0);
  });
});
