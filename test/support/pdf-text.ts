/**
 * The text of a PDF that pdfkit wrote with an embedded (Type0, Identity-H) font, for tests: each
 * font's ToUnicode CMap maps its glyph codes back to characters, and every `TJ`/`Tj` string of the
 * page content streams is decoded with the font selected by the last `Tf`. FlateDecode streams are
 * inflated, so compressed PDFs read too. Enough for pdfkit's output; not a general PDF parser.
 */
import { inflateSync } from 'node:zlib';

interface PdfObject {
  dict: string;
  stream?: Buffer;
}

function objects(pdf: Buffer): Map<number, PdfObject> {
  const out = new Map<number, PdfObject>();
  const src = pdf.toString('latin1');
  const re = /(\d+) 0 obj\s*([\s\S]*?)endobj/g;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    const body = m[2]!;
    const s = body.indexOf('stream');
    if (s < 0) {
      out.set(Number(m[1]), { dict: body });
      continue;
    }
    const dict = body.slice(0, s);
    const start = m.index + m[0].indexOf(body) + s + 'stream'.length;
    const from = src[start] === '\r' ? start + 2 : start + 1;
    const end = src.lastIndexOf('endstream', m.index + m[0].length);
    let raw = pdf.subarray(from, end);
    if (/\/FlateDecode/.test(dict)) raw = inflateSync(raw.subarray(0, raw.length));
    out.set(Number(m[1]), { dict, stream: raw });
  }
  return out;
}

/** Glyph code → text, from a ToUnicode CMap (pdfkit writes `bfrange` with arrays). */
function cmap(text: string): Map<number, string> {
  const map = new Map<number, string>();
  const range = /<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*\[([^\]]*)\]/g;
  for (let m = range.exec(text); m; m = range.exec(text)) {
    const first = parseInt(m[1]!, 16);
    const values = [...m[3]!.matchAll(/<([0-9a-fA-F ]+)>/g)].map((v) =>
      String.fromCharCode(
        ...v[1]!
          .trim()
          .split(/\s+/)
          .map((h) => parseInt(h, 16)),
      ),
    );
    values.forEach((v, i) => map.set(first + i, v));
  }
  return map;
}

/** Every page's text, in content-stream order (table cells separated by spaces or newlines). */
export function pdfText(pdf: Buffer): string {
  const objs = objects(pdf);
  const ref = (dict: string, key: string): number | undefined => {
    const m = new RegExp(`/${key}\\s+(\\d+) 0 R`).exec(dict);
    return m ? Number(m[1]) : undefined;
  };
  const fonts = new Map<string, Map<number, string>>(); // resource name → cmap
  const out: string[] = [];
  for (const obj of objs.values()) {
    if (!/\/Type\s*\/Page\b/.test(obj.dict)) continue;
    const resources = ref(obj.dict, 'Resources');
    const resDict = resources !== undefined ? (objs.get(resources)?.dict ?? '') : obj.dict;
    const fontBlock = /\/Font\s*<<([\s\S]*?)>>/.exec(resDict)?.[1] ?? '';
    for (const [, name, id] of fontBlock.matchAll(/\/(\w+)\s+(\d+) 0 R/g)) {
      const font = objs.get(Number(id));
      const tu = font && ref(font.dict, 'ToUnicode');
      const stream = tu !== undefined ? objs.get(tu)?.stream : undefined;
      if (stream) fonts.set(name!, cmap(stream.toString('latin1')));
    }
    const contents = ref(obj.dict, 'Contents');
    const content = contents !== undefined ? objs.get(contents)?.stream?.toString('latin1') : undefined;
    if (!content) continue;
    let current: Map<number, string> | undefined;
    const ops =
      /\/(\w+)\s+[\d.]+\s+Tf|\[((?:<[0-9a-fA-F]*>|[^\]])*)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj|(T\*|Td|TD|ET)/g;
    for (let m = ops.exec(content); m; m = ops.exec(content)) {
      if (m[1]) current = fonts.get(m[1]);
      else if (m[4]) out.push(m[4] === 'ET' ? '\n' : ' ');
      else {
        const hexes =
          m[2] !== undefined ? [...m[2].matchAll(/<([0-9a-fA-F]*)>/g)].map((h) => h[1]!) : [m[3]!];
        for (const hex of hexes)
          for (let i = 0; i + 4 <= hex.length; i += 4)
            out.push(current?.get(parseInt(hex.slice(i, i + 4), 16)) ?? '');
      }
    }
  }
  return out.join('');
}
