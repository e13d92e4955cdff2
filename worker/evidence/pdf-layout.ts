/**
 * A small layout layer over pdfkit for the evidence report: bilingual headings, key–value blocks,
 * and tables that break across pages with their header repeated. The text is set in the embedded
 * CJK font (`font.ts`), whose Latin glyphs serve ids and hashes too.
 */
import PDFDocument from 'pdfkit';
import type { Text } from '../../workflows/core/ir.ts';
import { textIn } from '../../workflows/core/languages.ts';
import type { PdfFonts } from './font.ts';
import type { EvidenceLanguage } from './types.ts';

export interface Column {
  title: string;
  /** Share of the text width (the shares of a table need not add up to 1: they are scaled). */
  width: number;
}

const INK = '#1a1a1a';
const MUTED = '#5c5c5c';
const RULE = '#b8b8b8';
const HEADER_FILL = '#ececec';
/** Longest text a table cell shows (a cell must fit on one page). */
const MAX_CELL = 700;

export class ReportWriter {
  readonly doc: PDFKit.PDFDocument;
  private readonly chunks: Buffer[] = [];
  private readonly finished: Promise<void>;

  constructor(
    fonts: PdfFonts,
    readonly lang: EvidenceLanguage,
    info: { title: string; subject: string; keywords: string; createdAt: Date },
    compress = true,
  ) {
    this.doc = new PDFDocument({
      size: 'A4',
      margins: { top: 56, bottom: 56, left: 50, right: 50 },
      bufferPages: true,
      compress,
      lang: lang === 'zh' ? 'zh-CN' : 'en',
      displayTitle: true,
      info: {
        Title: info.title,
        Subject: info.subject,
        Keywords: info.keywords,
        Author: 'Custodia',
        Creator: 'Custodia',
        CreationDate: info.createdAt,
      },
    });
    this.doc.registerFont('body', fonts.regular.file, fonts.regular.family);
    this.doc.registerFont('bold', fonts.bold.file, fonts.bold.family);
    this.doc.font('body').fillColor(INK);
    this.doc.on('data', (c: Buffer) => this.chunks.push(c));
    this.finished = new Promise((resolve, reject) => {
      this.doc.on('end', () => resolve());
      this.doc.on('error', reject);
    });
  }

  get width(): number {
    return this.doc.page.width - this.doc.page.margins.left - this.doc.page.margins.right;
  }

  private get left(): number {
    return this.doc.page.margins.left;
  }

  private get bottom(): number {
    return this.doc.page.height - this.doc.page.margins.bottom;
  }

  /** `中文 English` (or the one given). */
  both(zh: string, en: string): string {
    return zh === en ? zh : `${zh}  ${en}`;
  }

  /** The text in the report's language. */
  pick(t: Text): string {
    return textIn(t, this.lang);
  }

  /** Room for `height` points below the cursor, else a new page. */
  ensure(height: number): void {
    if (this.doc.y + height > this.bottom) this.doc.addPage();
  }

  newPage(): void {
    this.doc.addPage();
  }

  /** A section title (level 1) or a sub-title (level 2), bilingual. */
  heading(zh: string, en: string, level: 1 | 2 = 1): void {
    const size = level === 1 ? 15 : 11.5;
    this.ensure(size * 3);
    if (level === 2) this.doc.moveDown(0.6);
    this.doc.font('bold').fontSize(size).fillColor(INK).text(this.both(zh, en), this.left, this.doc.y, {
      width: this.width,
    });
    if (level === 1) {
      const y = this.doc.y + 2;
      this.doc
        .moveTo(this.left, y)
        .lineTo(this.left + this.width, y)
        .lineWidth(0.8)
        .strokeColor(INK)
        .stroke();
      this.doc.y = y + 6;
    } else this.doc.moveDown(0.2);
    this.doc.font('body');
  }

  paragraph(text: string, opts: { size?: number; muted?: boolean } = {}): void {
    this.doc
      .font('body')
      .fontSize(opts.size ?? 9)
      .fillColor(opts.muted ? MUTED : INK)
      .text(text, this.left, this.doc.y, { width: this.width });
    this.doc.fillColor(INK).moveDown(0.3);
  }

  /** Label–value lines (labels bilingual, in a narrow column). */
  keyValues(rows: readonly [string, string][], labelWidth = 150): void {
    const size = 9;
    for (const [label, value] of rows) {
      this.doc.fontSize(size);
      const h = Math.max(
        this.doc.font('bold').heightOfString(label, { width: labelWidth - 8 }),
        this.doc.font('body').heightOfString(value || '—', { width: this.width - labelWidth }),
      );
      this.ensure(h + 4);
      const y = this.doc.y;
      this.doc
        .font('bold')
        .fillColor(MUTED)
        .text(label, this.left, y, { width: labelWidth - 8 });
      this.doc
        .font('body')
        .fillColor(INK)
        .text(value || '—', this.left + labelWidth, y, { width: this.width - labelWidth });
      this.doc.y = y + h + 4;
    }
    this.doc.x = this.left;
  }

  /** A table: header row (repeated after each page break), then rows; long cells wrap. */
  table(columns: readonly Column[], rows: readonly (readonly string[])[], size = 7.5): void {
    const total = columns.reduce((n, c) => n + c.width, 0);
    const widths = columns.map((c) => (c.width / total) * this.width);
    const pad = 3;
    const heightOf = (cells: readonly string[], font: 'body' | 'bold'): number => {
      this.doc.font(font).fontSize(size);
      return (
        Math.max(
          ...cells.map((t, i) => this.doc.heightOfString(clip(t) || ' ', { width: widths[i]! - 2 * pad })),
        ) +
        2 * pad
      );
    };
    const drawRow = (cells: readonly string[], font: 'body' | 'bold', fill?: string): void => {
      const h = heightOf(cells, font);
      const y = this.doc.y;
      let x = this.left;
      if (fill) this.doc.rect(x, y, this.width, h).fill(fill);
      this.doc.fillColor(INK).font(font).fontSize(size);
      cells.forEach((t, i) => {
        this.doc.text(clip(t), x + pad, y + pad, { width: widths[i]! - 2 * pad });
        x += widths[i]!;
      });
      this.doc
        .moveTo(this.left, y + h)
        .lineTo(this.left + this.width, y + h)
        .lineWidth(0.4)
        .strokeColor(RULE)
        .stroke();
      this.doc.y = y + h;
    };
    const header = columns.map((c) => c.title);
    this.ensure(heightOf(header, 'bold') + (rows[0] ? heightOf(rows[0], 'body') : 0));
    drawRow(header, 'bold', HEADER_FILL);
    for (const row of rows) {
      if (this.doc.y + heightOf(row, 'body') > this.bottom) {
        this.doc.addPage();
        drawRow(header, 'bold', HEADER_FILL);
      }
      drawRow(row, 'body');
    }
    this.doc.x = this.left;
    this.doc.moveDown(0.6);
  }

  /** Page numbers and a running title on every page; then the bytes. */
  async finish(footer: string): Promise<Uint8Array> {
    const range = this.doc.bufferedPageRange();
    for (let i = range.start; i < range.start + range.count; i++) {
      this.doc.switchToPage(i);
      const bottomMargin = this.doc.page.margins.bottom;
      this.doc.page.margins.bottom = 0;
      const y = this.doc.page.height - 36;
      this.doc.font('body').fontSize(7).fillColor(MUTED);
      this.doc.text(footer, this.left, y, { width: this.width - 60, lineBreak: false });
      this.doc.text(`${i + 1} / ${range.count}`, this.left + this.width - 60, y, {
        width: 60,
        align: 'right',
        lineBreak: false,
      });
      this.doc.page.margins.bottom = bottomMargin;
    }
    this.doc.end();
    await this.finished;
    return new Uint8Array(Buffer.concat(this.chunks));
  }
}

function clip(text: string): string {
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}
