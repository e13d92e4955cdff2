/**
 * A register as a file: CSV (through `export.ts`'s `toCsv`, so a cell a spreadsheet would run as a
 * formula stays text) or XLSX (`exceljs`: typed cells, never a formula). Columns: when, client,
 * procedure, instance, transition, who, then the register's declared fields (headers in the
 * reader's language), then the correction columns. A correction is a line of its own right after
 * the row it corrects, carrying only the corrected values and naming the row.
 */
import ExcelJS from 'exceljs';
import type { Json } from '../../workflows/core/ir.ts';
import { textIn } from '../../workflows/core/languages.ts';
import { toCsv } from './export.ts';
import type { Register } from './register-catalog.ts';
import type { RegisterRow } from './registers.ts';

export type Language = 'zh' | 'en';

const FIXED = [
  ['at', { zh: '时间', en: 'At' }],
  ['client', { zh: '客户', en: 'Client' }],
  ['procedure', { zh: '流程', en: 'Procedure' }],
  ['instance', { zh: '实例', en: 'Instance' }],
  ['transition', { zh: '转换', en: 'Transition' }],
  ['actor', { zh: '操作人', en: 'By' }],
] as const;

const CORRECTION = [
  ['corrects', { zh: '更正的记录', en: 'Corrects' }],
  ['correction_reason', { zh: '更正原因', en: 'Correction reason' }],
  ['corrected_by', { zh: '更正人', en: 'Corrected by' }],
] as const;

/** The header row in `lang`: fixed columns, declared fields, correction columns. */
export function registerHeaders(register: Register, lang: Language): string[] {
  return [
    ...FIXED.map(([, t]) => t[lang]),
    ...register.fields.map((f) => textIn(f.title, lang)),
    ...CORRECTION.map(([, t]) => t[lang]),
  ];
}

type Cell = string | number | boolean | null;

function cell(v: Json | undefined): Cell {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v))
    return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join('; ');
  if (typeof v === 'object') return JSON.stringify(v);
  return v;
}

/** The lines of an export: each row, then its corrections. */
export function registerLines(register: Register, rows: readonly RegisterRow[]): Cell[][] {
  const lines: Cell[][] = [];
  for (const r of rows) {
    const base: Cell[] = [
      r.at,
      r.client ?? null,
      r.procedure ? `${r.procedure}${r.version ? `@${r.version}` : ''}` : null,
      r.workflowId,
      `#${r.seq}${r.event ? ` ${r.event}` : ''}`,
      r.actor ?? null,
    ];
    lines.push([...base, ...register.fields.map((f) => cell(r.fields[f.name])), null, null, null]);
    for (const c of r.corrections)
      lines.push([
        c.at,
        ...base.slice(1),
        ...register.fields.map((f) => cell(c.fields[f.name])),
        `${r.workflowId}#${r.seq}.${r.idx}`,
        c.reason,
        c.by,
      ]);
  }
  return lines;
}

/** CSV with the header in `lang`; booleans as true/false. */
export function registerCsv(register: Register, rows: readonly RegisterRow[], lang: Language): string {
  return toCsv(
    registerHeaders(register, lang),
    registerLines(register, rows).map((l) => l.map((c) => (typeof c === 'boolean' ? String(c) : c))),
  );
}

/** A worksheet name Excel accepts: at most 31 characters, none of `[]:*?/\`. */
function sheetName(s: string): string {
  return s.replace(/[[\]:*?/\\]/g, ' ').slice(0, 31) || 'register';
}

/** XLSX (one sheet named after the register): header row in `lang`, then typed cells — never formulas. */
export async function registerXlsx(
  register: Register,
  rows: readonly RegisterRow[],
  lang: Language,
): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Custodia';
  const ws = wb.addWorksheet(sheetName(textIn(register.title, lang)));
  const header = ws.addRow(registerHeaders(register, lang));
  header.font = { bold: true };
  ws.views = [{ state: 'frozen', ySplit: 1 }];
  for (const line of registerLines(register, rows)) {
    const row = ws.addRow([]);
    // Values set one by one as plain values: a string is a string cell even when it starts with `=`.
    line.forEach((v, i) => {
      if (v !== null) row.getCell(i + 1).value = v;
    });
  }
  ws.columns.forEach((c) => (c.width = 18));
  return Buffer.from(await wb.xlsx.writeBuffer());
}
