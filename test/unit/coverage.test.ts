/**
 * Clause coverage (`custodia coverage`): which clause a definition cites where, which test is
 * tagged with it, and which uncited clause a note explains — on a small hand-made procedure and
 * definition set, so each expectation can be checked by eye.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseClauses } from '../../workflows/core/clauses.ts';
import type { ProcedureIR } from '../../workflows/core/ir.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import {
  collectCitations,
  computeCoverage,
  coverageCommand,
  parseCoverageNotes,
  scanTestTags,
  summaryLine,
  type ClauseCoverage,
  type CoverageReport,
} from '../../worker/cli/coverage.ts';

const ZH = `3 职责
3.1 甲
3.1.1 甲一
3.1.2 甲二
3.2 乙
3.2.1 乙一
4 工作程序
4.1 交接
4.1.1 收样
4.1.2 保管
4.2 披露
4.2.1 同意
5 相关文件和记录
5.1 支持程序
5.2 记录文件
（1）《保密协议》
`;
const EN = ZH.replace(/ [^\s]+$/gm, ' x').replace(/（1）.*/, '(1) NDA');
const clauses = parseClauses(ZH, EN);

function definition(file: string, yaml: string): { file: string; ir: ProcedureIR } {
  const result = validateProcedureText(yaml, file);
  expect(result.diagnostics).toEqual([]);
  if (!result.ir) throw new Error(`${file} did not load`);
  return { file, ir: result.ir };
}

const CUSTODY_YAML = `id: custody
version: 1.0.0
title: { zh: 保管, en: Custody }
description: { zh: 保管, en: Custody }
clauses: ['4.1']
roles:
  staff: { zh: 员工, en: Staff }
events:
  DONE: { title: { zh: 完成, en: Done } }
initial: open
states:
  open:
    title: { zh: 保管中, en: In custody }
    clauses: ['4.1.1', '4.9']
    on:
      DONE: { target: closed, roles: staff, clauses: ['4.1.1', '3.1.1'] }
    after:
      - { delay: P1D, target: closed, clauses: ['4.1.2'] }
  closed:
    title: { zh: 已关闭, en: Closed }
    type: final
invariants:
  - id: closes
    kind: ends_in
    states: [closed]
    description: { zh: 终将关闭, en: Always closes }
    clauses: ['4.1.2']
`;
const custody = definition('custody.yaml', CUSTODY_YAML);
/** A one-step definition whose only state cites `clauses`. */
const oneState = (id: string, clauses: string): { file: string; ir: ProcedureIR } =>
  definition(
    `${id}.yaml`,
    `id: ${id}
version: 1.0.0
title: { zh: 检查, en: Review }
description: { zh: 检查, en: Review }
roles:
  staff: { zh: 员工, en: Staff }
events:
  DONE: { title: { zh: 完成, en: Done } }
initial: open
states:
  open:
    title: { zh: 进行中, en: Open }
    clauses: ${clauses}
    on:
      DONE: { target: closed, roles: staff }
  closed:
    title: { zh: 已关闭, en: Closed }
    type: final
`,
  );
const review = oneState('review', "['3.2.1']");

const TESTS = `describe('custody', () => {
  it('[4.1.1] takes samples in', () => {});
  test("[4.1.1][3.1.1] logs who took them", () => {});
  it.skip('[4.2.1] not yet', () => {});
  it('has no tag', () => {});
  it.concurrent(
    '[4.1.2] [4.7] keeps them \\'safe\\'',
    () => {},
  );
});
`;
const tests = scanTestTags(TESTS, 'test/scenarios/custody.test.ts');
const notes = {
  '3.1.2': { zh: '甲二不适用', en: 'not applicable' },
  '3.2.1': { zh: '已引用', en: 'already cited' },
  '4.2.1': { zh: '第四节不能用注释', en: 'notes do not excuse §4' },
  '5.1': { zh: '未列出', en: 'none listed' },
  '9.9': { zh: '不存在', en: 'no such clause' },
};
const report = computeCoverage(clauses, [custody, review], tests, notes);
const row = (id: string): ClauseCoverage => {
  const found = report.clauses.find((r) => r.id === id);
  if (!found) throw new Error(`no row ${id}`);
  return found;
};

describe('collectCitations', () => {
  it('finds the citations of the procedure, its states, transitions (delayed too) and invariants', () => {
    expect(collectCitations(custody).map((c) => [c.clause, c.kind, c.where])).toEqual([
      ['4.1', 'procedure', ''],
      ['4.1.1', 'state', 'open'],
      ['4.9', 'state', 'open'],
      ['4.1.1', 'transition', 'open —DONE→ closed'],
      ['3.1.1', 'transition', 'open —DONE→ closed'],
      ['4.1.2', 'transition', 'open after P1D → closed'],
      ['4.1.2', 'invariant', 'closes'],
    ]);
    expect(
      collectCitations(custody).every((c) => c.procedure === 'custody' && c.file === 'custody.yaml'),
    ).toBe(true);
  });
});

describe('computeCoverage', () => {
  it('reports every clause of §3–§5 except the section titles', () => {
    expect(report.procedures).toEqual([
      { id: 'custody', file: 'custody.yaml' },
      { id: 'review', file: 'review.yaml' },
    ]);
    expect(report.clauses.map((r) => r.id)).toEqual([
      ...['3.1', '3.1.1', '3.1.2', '3.2', '3.2.1'],
      ...['4.1', '4.1.1', '4.1.2', '4.2', '4.2.1'],
      ...['5.1', '5.2', '5.2(1)'],
    ]);
  });

  it('counts direct citations per definition, and keeps sub-clauses apart', () => {
    expect(row('4.1')).toMatchObject({
      status: 'cited',
      definitions: [{ procedure: 'custody', procedureLevel: true, states: 0, transitions: 0, invariants: 0 }],
      subClauses: ['4.1.1', '4.1.2'],
    });
    expect(row('4.1.1')).toMatchObject({
      status: 'cited',
      definitions: [
        { procedure: 'custody', procedureLevel: false, states: 1, transitions: 1, invariants: 0 },
      ],
      subClauses: [],
    });
    expect(row('4.1.2').definitions).toEqual([
      {
        procedure: 'custody',
        file: 'custody.yaml',
        procedureLevel: false,
        states: 0,
        transitions: 1,
        invariants: 1,
      },
    ]);
    expect(row('3.1')).toMatchObject({ status: 'sub_clauses', definitions: [], subClauses: ['3.1.1'] });
    expect(row('3.2.1').definitions.map((d) => d.procedure)).toEqual(['review']);
  });

  it('marks uncited clauses: explained by a note in §3/§5, uncovered otherwise', () => {
    expect(row('3.1.2')).toMatchObject({ status: 'explained', note: notes['3.1.2'] });
    expect(row('5.1')).toMatchObject({ status: 'explained', note: notes['5.1'] });
    expect(row('4.2.1').status).toBe('uncovered');
    expect(row('4.2.1').note).toBeUndefined();
    expect(row('4.2').status).toBe('uncovered');
    expect(row('5.2(1)').status).toBe('uncovered');
    expect(row('5.2').status).toBe('uncovered');
  });

  it('fails on an uncovered §4 clause even with a note, and on an unexplained §3/§5 clause', () => {
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.stringMatching(/^4\.2\.1 .*a note does not count/),
      expect.stringMatching(/^5\.2\(1\) .*no reason/),
    ]);
    expect(report.sections).toEqual([
      { section: '4', total: 5, cited: 3, explained: 0, tested: 2, uncovered: ['4.2', '4.2.1'] },
      { section: '3', total: 5, cited: 4, explained: 1, tested: 1, uncovered: [] },
      { section: '5', total: 3, cited: 0, explained: 1, tested: 0, uncovered: ['5.2', '5.2(1)'] },
    ]);
    expect(summaryLine(report)).toBe(
      '§4: 3/5 clauses covered (uncovered: 4.2, 4.2.1); §3: 4/5 covered + 1 explained; ' +
        '§5: 0/3 covered + 1 explained (uncovered: 5.2, 5.2(1)); tests tag 3/13 clauses',
    );
  });

  it('warns about citations, tags and notes that name no clause, and notes no longer needed', () => {
    expect(report.warnings).toEqual([
      expect.stringMatching(/^custody\.yaml: state open cites 4\.9, which is not a clause/),
      expect.stringMatching(/custody\.test\.ts:\d+: test tag \[4\.7\] is not a clause/),
      expect.stringMatching(/^coverage note for 9\.9, which is not a clause/),
      expect.stringMatching(/^coverage note for 3\.2\.1 is not needed/),
    ]);
  });

  it('passes once every §4 clause is cited and every other gap explained; a heading follows its clauses', () => {
    const disclosure = oneState('disclosure', "['4.2.1']");
    const done = computeCoverage(clauses, [custody, review, disclosure], tests, {
      ...notes,
      '5.2(1)': { zh: '见 4.1.4', en: 'see 4.1.4' },
    });
    expect(done.problems).toEqual([]);
    expect(done.ok).toBe(true);
    expect(done.clauses.find((r) => r.id === '5.2')).toMatchObject({ status: 'explained' });
    expect(done.clauses.find((r) => r.id === '4.2')).toMatchObject({
      status: 'sub_clauses',
      subClauses: ['4.2.1'],
    });
    expect(summaryLine(done)).toMatch(
      /^§4: 5\/5 clauses covered; §3: 4\/5 covered \+ 1 explained; §5: 0\/3 covered \+ 3 explained;/,
    );
  });

  it('attaches tagged tests to exactly the clauses they name', () => {
    expect(row('4.1.1').tests.map((t) => t.title)).toEqual([
      '[4.1.1] takes samples in',
      '[4.1.1][3.1.1] logs who took them',
    ]);
    expect(row('4.1').tests).toEqual([]);
    expect(row('4.2.1').tests).toEqual([]);
  });
});

describe('scanTestTags', () => {
  it('reads tags from it/test/describe titles, over several lines, and skips .skip/.todo', () => {
    expect(tests.map((t) => [t.line, t.clauses])).toEqual([
      [2, ['4.1.1']],
      [3, ['4.1.1', '3.1.1']],
      [6, ['4.1.2', '4.7']],
    ]);
    expect(tests[2]?.title).toBe("[4.1.2] [4.7] keeps them \\'safe\\'");
  });

  it('reads template-literal titles, list-item tags and describe blocks; ignores other calls', () => {
    const source = [
      'describe(`[4.6.3] violation case`, () => {',
      "  it.only('records the NDA [5.2(1)]', () => {});",
      "  it.todo('[4.4.4] visitor alone');",
      "  audit('[4.1.1] not a test');",
      "  vi.it('[4.1.2] not vitest either');",
      "  it('[4.2.3][4.2.3] once per tag', () => {});",
      '});',
    ].join('\n');
    expect(scanTestTags(source, 'x.test.ts').map((t) => [t.line, t.clauses])).toEqual([
      [1, ['4.6.3']],
      [2, ['5.2(1)']],
      [6, ['4.2.3']],
    ]);
  });
});

describe('parseCoverageNotes', () => {
  it('keeps ids as written and needs both languages', () => {
    const { notes: parsed, problems } = parseCoverageNotes(
      "'5.1': { zh: 无, en: none }\n4.10: { zh: 十, en: ten }\n'3.2.3': { zh: 只有中文 }\n",
    );
    expect(parsed).toEqual({ '5.1': { zh: '无', en: 'none' }, '4.10': { zh: '十', en: 'ten' } });
    expect(problems).toEqual(['3.2.3: the reason needs both zh and en']);
  });

  it('parses the shipped notes: each names a §3 or §5 clause of the procedure', () => {
    const dir = new URL('../../definitions/procedure/', import.meta.url);
    const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8');
    const shipped = parseCoverageNotes(read('coverage-notes.yaml'));
    expect(shipped.problems).toEqual([]);
    const ids = new Set(parseClauses(read('clauses.zh.txt'), read('clauses.en.txt')).map((c) => c.id));
    for (const id of Object.keys(shipped.notes)) {
      expect(ids.has(id), id).toBe(true);
      expect(['3', '5']).toContain(id.split(/[.(]/)[0]);
    }
  });
});

describe('coverageCommand', () => {
  afterEach(() => vi.restoreAllMocks());

  /** Capture what the command writes to a stream (it waits for each write's callback). */
  const capture = (stream: NodeJS.WriteStream): string[] => {
    const chunks: string[] = [];
    vi.spyOn(stream, 'write').mockImplementation(((chunk: string, ...rest: unknown[]) => {
      chunks.push(chunk);
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof stream.write);
    return chunks;
  };

  it('reads the shipped procedure for other definition folders, prints JSON, and fails on uncovered §4', async () => {
    const out = capture(process.stdout);
    capture(process.stderr);
    const dir = mkdtempSync(path.join(tmpdir(), 'custodia-coverage-'));
    writeFileSync(path.join(dir, 'custody.yaml'), CUSTODY_YAML);
    try {
      expect(await coverageCommand([dir, '--json'])).toBe(1);
    } finally {
      rmSync(dir, { recursive: true });
    }
    const json = JSON.parse(out.join('')) as CoverageReport;
    expect(json.procedures.map((p) => p.id)).toEqual(['custody']);
    expect(json.clauses.find((r) => r.id === '4.1.2')?.definitions).toEqual([
      expect.objectContaining({ procedure: 'custody', transitions: 1, invariants: 1 }),
    ]);
    expect(json.sections.find((s) => s.section === '4')?.total).toBe(27);
    expect(json.problems).toContainEqual(expect.stringMatching(/^4\.4\.4 is cited by no definition/));
  });

  it('prints the table in Chinese with --lang zh, problems on stderr and the summary last', async () => {
    const out = capture(process.stdout);
    const err = capture(process.stderr);
    const dir = mkdtempSync(path.join(tmpdir(), 'custodia-coverage-'));
    writeFileSync(path.join(dir, 'custody.yaml'), CUSTODY_YAML);
    try {
      expect(await coverageCommand([dir, '--lang', 'zh'])).toBe(1);
    } finally {
      rmSync(dir, { recursive: true });
    }
    const text = out.join('');
    expect(text).toMatch(/^1 definition\(s\): custody\n/);
    expect(text).toMatch(/\n4\.1\.4 +本公司要与客户签立《保密协议》 +(\d+ +)?✗ not cited\n/);
    expect(text).toMatch(
      /\n4\.1\.2 +对需要保密的样品和资料.*… +(\d+ +)?custody: 1 transition, 1 invariant\n/,
    );
    expect(text.trimEnd().split('\n').pop()).toMatch(/^§4: 3\/27 clauses covered \(uncovered: .*4\.6\.3\)/);
    expect(err.join('')).toMatch(/^✗ 4\.1\.4 is cited by no definition/m);
  });

  it('refuses a language it does not have', async () => {
    await expect(coverageCommand(['--lang', 'fr'])).rejects.toThrow(/--lang must be en or zh/);
  });
});
