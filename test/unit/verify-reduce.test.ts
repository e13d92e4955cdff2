/**
 * The verifier's reductions (`verify/search.ts`: moves shared by configurations that differ only
 * in their people; `verify/reduce.ts`: people merged where they can no longer matter) change how
 * many configurations are explored, never the answer: every shipped definition and every verifier
 * fixture gets the same results — holds, counterexamples, notes, values, warnings — with and
 * without them (`reduce: false`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ProcedureIR } from '../../workflows/core/ir.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import { verifyProcedure, type VerifyResult } from '../../workflows/core/verify.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function load(file: string): ProcedureIR {
  const result = validateProcedureText(readFileSync(file, 'utf8'), path.basename(file));
  if (!result.ir) throw new Error(`${file}: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  return result.ir;
}

const yamlIn = (dir: string): string[] =>
  readdirSync(path.join(ROOT, dir))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => path.join(ROOT, dir, f));

/** The answer without the number of configurations explored. */
const answer = (r: VerifyResult): unknown => ({
  exhaustive: r.exhaustive,
  warnings: r.warnings,
  invariants: r.invariants.map(({ explored: _explored, ...rest }) => rest),
});

const HEAD = `
version: 1.0.0
title: { zh: 测试, en: Test }
description: { zh: 测试, en: Test }
roles: { staff: { zh: 员工, en: Staff }, boss: { zh: 主管, en: Boss } }
`;

describe('verifier reductions', () => {
  // external_visit has its own test below (its full search is the slowest).
  // The shipped set, the verifier's fixtures and those of the language's joins, eventless routing,
  // one-language texts, assignment and called procedures.
  const files = [
    ...yamlIn('definitions'),
    ...['verify', 'parallel-review', 'eventless', 'english', 'assignment', 'call'].flatMap((d) =>
      yamlIn(`test/fixtures/${d}`),
    ),
  ].filter((f) => !f.endsWith('external_visit.yaml'));
  for (const file of files)
    it(`${path.relative(ROOT, file)}: the same answer, no more configurations`, () => {
      const ir = load(file);
      const reduced = verifyProcedure(ir);
      const full = verifyProcedure(ir, { reduce: false });
      expect(answer(reduced)).toEqual(answer(full));
      expect(reduced.explored).toBeLessThanOrEqual(full.explored);
    });

  it('external_visit: the same answer from a third of the configurations (people merged where they no longer matter)', () => {
    const ir = load(path.join(ROOT, 'definitions/external_visit.yaml'));
    const reduced = verifyProcedure(ir);
    const full = verifyProcedure(ir, { reduce: false });
    expect(answer(reduced)).toEqual(answer(full));
    expect(reduced.invariants.every((r) => r.holds)).toBe(true);
    expect(reduced.explored * 3).toBeLessThan(full.explored);
  }, 60_000);

  it('a violation reached where no tracked event is left is still found, with the same shortest path', () => {
    // Both approvals by one person, then the procedure ends: the merged final configurations must
    // keep the history that breaks distinct_actors.
    const text = `id: shared_then_done
${HEAD}
events:
  SUBMIT: { title: { zh: 提交, en: Submit } }
  APPROVE: { title: { zh: 批准, en: Approve } }
  CLOSE: { title: { zh: 关闭, en: Close } }
initial: draft
states:
  draft:
    title: { zh: 草稿, en: Draft }
    on: { SUBMIT: { target: review, roles: [staff, boss] } }
  review:
    title: { zh: 审核, en: Review }
    on: { APPROVE: { target: approved, roles: [staff, boss] } }
  approved:
    title: { zh: 已批准, en: Approved }
    on: { CLOSE: { target: closed, roles: [staff] } }
  closed: { title: { zh: 关闭, en: Closed }, type: final }
invariants:
  - id: four_eyes
    kind: distinct_actors
    events: [SUBMIT, APPROVE]
    description: { zh: 不同人员, en: Different people }
`;
    const result = validateProcedureText(text, 'shared_then_done.yaml');
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const ir = result.ir as ProcedureIR;
    const reduced = verifyProcedure(ir);
    const full = verifyProcedure(ir, { reduce: false });
    expect(answer(reduced)).toEqual(answer(full));
    const r = reduced.invariants[0];
    expect(r?.holds).toBe(false);
    expect(r?.counterexample?.map((s) => [s.event, s.actor])).toEqual([
      ['$start', undefined],
      ['SUBMIT', 'A1'],
      ['APPROVE', 'A1'],
    ]);
  });
});
