/**
 * The procedure texts shipped in `definitions/procedure/` parse into every clause of the
 * procedure, with the exact Chinese and English text; the parser copes with the formatting
 * variations such texts come in.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  clauseMismatches,
  clauseTitle,
  compareClauseIds,
  describeClause,
  indexClauses,
  isWithinClause,
  parentClauseId,
  parseClauses,
  parseClauseText,
  sectionOf,
} from '../../workflows/core/clauses.ts';

const procedure = new URL('../../definitions/procedure/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, procedure), 'utf8');
const clauses = parseClauses(read('clauses.zh.txt'), read('clauses.en.txt'));
const byId = indexClauses(clauses);
const ids = (section: string): string[] => clauses.filter((c) => c.section === section).map((c) => c.id);

describe('the shipped procedure', () => {
  it('has every clause of §3, §4 and §5, in document order', () => {
    expect(ids('3')).toEqual([
      '3',
      ...['3.1', '3.1.1'],
      ...['3.2', '3.2.1', '3.2.2', '3.2.3'],
      ...['3.3', '3.3.1', '3.3.2', '3.3.3'],
      ...['3.4', '3.4.1', '3.4.2', '3.4.3'],
      ...['3.5', '3.5.1', '3.5.2'],
      ...['3.6', '3.6.1'],
    ]);
    expect(ids('4')).toEqual([
      '4',
      ...['4.1', '4.1.1', '4.1.2', '4.1.3', '4.1.4'],
      ...['4.2', '4.2.1', '4.2.2', '4.2.3', '4.2.4', '4.2.5'],
      ...['4.3', '4.3.1', '4.3.2'],
      ...['4.4', '4.4.1', '4.4.2', '4.4.3', '4.4.4'],
      ...['4.5', '4.5.1', '4.5.2', '4.5.3'],
      ...['4.6', '4.6.1', '4.6.2', '4.6.3'],
    ]);
    expect(ids('5')).toEqual(['5', '5.1', '5.2', '5.2(1)', '5.2(2)']);
    expect(ids('1')).toEqual(['1']);
    expect(ids('2')).toEqual(['2', '2(1)', '2(2)', '2(3)', '2(4)', '2(5)']);
    expect(clauses).toHaveLength(60);
    expect([...clauses].sort((a, b) => compareClauseIds(a.id, b.id))).toEqual(clauses);
  });

  it('has both languages for every clause', () => {
    expect(clauseMismatches(clauses)).toEqual({ missingZh: [], missingEn: [] });
  });

  it('keeps the exact text of each clause', () => {
    expect(byId.get('4.2.3')).toEqual({
      id: '4.2.3',
      section: '4',
      parent: '4.2',
      zh: '未经客户的书面同意，本公司不得将获得的有关特定产品或客户的信息透露给第三方，除非法律有要求时，应将法律要求提供的保密信息通知客户。',
      en: "Without the client's written consent, the company does not disclose information obtained about a specific product or client to any third party; where the law requires disclosure, the client is notified of the confidential information provided under that legal requirement.",
    });
    expect(byId.get('3.2.3')).toMatchObject({
      zh: '维护本程序的有效性。',
      en: 'Keeps this procedure effective.',
    });
    expect(byId.get('4.3.2')).toMatchObject({
      zh: '认证结果的发送只能采用纸质形式；',
      en: 'Certification results are sent in paper form only;',
    });
    expect(byId.get('4.4.4')?.zh).toBe('未经允许禁止外人员独自停留在本公司的检测区域、认证区域。');
    expect(byId.get('4.6.3')?.en).toBe(
      'The company takes corrective action on any violation of the rules above; serious cases are referred for administrative or judicial penalties.',
    );
    expect(byId.get('5.2(1)')).toEqual({
      id: '5.2(1)',
      section: '5',
      parent: '5.2',
      zh: '《保密协议》',
      en: 'Non-Disclosure Agreement',
    });
    expect(byId.get('5.2(2)')).toMatchObject({ zh: '《认证合同》', en: 'Certification Contract' });
  });

  it('keeps headings as clauses, marked when clauses sit under them', () => {
    expect(byId.get('4')).toEqual({
      id: '4',
      section: '4',
      zh: '工作程序',
      en: 'Working Procedure',
      heading: true,
    });
    expect(byId.get('4.1')).toEqual({
      id: '4.1',
      section: '4',
      parent: '4',
      zh: '样品和技术资料的交接',
      en: 'Handover of samples and technical documents',
      heading: true,
    });
    expect(byId.get('3.6')).toMatchObject({
      zh: '其他相关人员',
      en: 'Other Relevant Persons',
      heading: true,
    });
    expect(byId.get('5.2')).toMatchObject({ zh: '记录文件', heading: true });
    expect(byId.get('5.1')).toEqual({
      id: '5.1',
      section: '5',
      parent: '5',
      zh: '支持程序',
      en: 'Supporting procedures',
    });
    expect(byId.get('4.2.1')?.heading).toBeUndefined();
    expect(clauses.filter((c) => c.heading).map((c) => c.id)).toEqual([
      '2',
      '3',
      ...['3.1', '3.2', '3.3', '3.4', '3.5', '3.6'],
      '4',
      ...['4.1', '4.2', '4.3', '4.4', '4.5', '4.6'],
      '5',
      '5.2',
    ]);
  });

  it('joins a line without a number to the clause before it', () => {
    expect(byId.get('2')).toMatchObject({
      zh: '范围\n本程序文件包括以下领域涉及的机密：',
      en: 'Scope\nThis procedure covers confidentiality in the following areas:',
    });
    expect(byId.get('2(3)')?.zh).toBe('客户送审样品检测、认证结果的所有权；');
  });
});

describe('parseClauseText', () => {
  it('copes with CRLF, a BOM, full-width spaces and brackets, dotted numbers and wrapped lines', () => {
    const text =
      '\uFEFF4 工作程序\r\n\r\n  4.1\u3000样品交接\r\n4.1.1. 第一条，\r\n   续行；\r\n5.2 记录\r\n（ 1 ）《保密协议》\r\n(2)《认证合同》\r\n';
    expect(parseClauseText(text)).toEqual([
      { id: '4', text: '工作程序' },
      { id: '4.1', text: '样品交接' },
      { id: '4.1.1', text: '第一条，\n续行；' },
      { id: '5.2', text: '记录' },
      { id: '5.2(1)', text: '《保密协议》' },
      { id: '5.2(2)', text: '《认证合同》' },
    ]);
  });

  it('keeps a clause that only one language has, with the other text empty', () => {
    const merged = parseClauses('1 目的\n1.1 甲', '1 Purpose');
    expect(merged).toEqual([
      { id: '1', section: '1', zh: '目的', en: 'Purpose', heading: true },
      { id: '1.1', section: '1', parent: '1', zh: '甲', en: '' },
    ]);
    expect(clauseMismatches(merged)).toEqual({ missingZh: [], missingEn: ['1.1'] });
  });
});

describe('clause ids and titles', () => {
  it.each([
    ['4.2.3', '4.2', '4'],
    ['4.2', '4', '4'],
    ['4', undefined, '4'],
    ['5.2(1)', '5.2', '5'],
    ['2(3)', '2', '2'],
  ])('%s: parent %s, section %s', (id, parent, section) => {
    expect(parentClauseId(id)).toBe(parent);
    expect(sectionOf(id)).toBe(section);
  });

  it('knows which clause sits under which', () => {
    expect(isWithinClause('4.2.3', '4.2')).toBe(true);
    expect(isWithinClause('4.2.3', '4')).toBe(true);
    expect(isWithinClause('4.2', '4.2')).toBe(true);
    expect(isWithinClause('5.2(1)', '5.2')).toBe(true);
    expect(isWithinClause('4.2', '4.2.3')).toBe(false);
    expect(isWithinClause('4.21', '4.2')).toBe(false);
    expect(isWithinClause('3.2.1', '4')).toBe(false);
  });

  it('orders ids as the document does', () => {
    const sorted = ['4.10', '4.2.1', '5.2(2)', '4.2', '5.2', '4', '5.2(1)', '3.6.1'].sort(compareClauseIds);
    expect(sorted).toEqual(['3.6.1', '4', '4.2', '4.2.1', '4.10', '5.2', '5.2(1)', '5.2(2)']);
  });

  it('gives short titles without closing punctuation, in either language', () => {
    const clause = byId.get('3.2.3');
    expect(clause && clauseTitle(clause)).toBe('Keeps this procedure effective');
    expect(clause && clauseTitle(clause, 'zh')).toBe('维护本程序的有效性');
    const long = byId.get('4.2.3');
    expect(long && clauseTitle(long, 'en', 20)).toBe("Without the client'…");
    expect(long && [...clauseTitle(long, 'zh', 10)]).toHaveLength(10);
    expect(describeClause('4.1', byId)).toBe('4.1 Handover of samples and technical documents');
    expect(describeClause('9.9', byId)).toBe('9.9');
  });
});
