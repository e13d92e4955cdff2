/**
 * The font the evidence PDF embeds: Chinese must render, so a CJK font — `CUSTODIA_PDF_FONT`
 * (a `.ttc`, `.otf` or `.ttf`; for a collection other than Noto CJK add `#PostScriptName`), else the
 * first Noto Sans CJK found where Debian's `fonts-noto-cjk` installs it. pdfkit embeds only the
 * glyphs used (a subset), so the PDF stays small.
 */
import { existsSync } from 'node:fs';
import { setting } from '../settings.ts';
import { EvidenceError } from './types.ts';

/** A font pdfkit can register: a file and, for a collection (`.ttc`), the face's PostScript name. */
export interface FontFace {
  file: string;
  family?: string;
}

export interface PdfFonts {
  regular: FontFace;
  bold: FontFace;
}

/** Where `fonts-noto-cjk` puts its fonts on Debian and Ubuntu (older releases first in truetype/). */
const NOTO_FOLDERS = [
  '/usr/share/fonts/opentype/noto',
  '/usr/share/fonts/truetype/noto',
  '/usr/share/fonts/noto-cjk',
];

/** The Simplified Chinese face of a Noto CJK collection. */
const NOTO_FACES = { regular: 'NotoSansCJKsc-Regular', bold: 'NotoSansCJKsc-Bold' } as const;

function notoFonts(): PdfFonts | undefined {
  for (const dir of NOTO_FOLDERS) {
    const regular = `${dir}/NotoSansCJK-Regular.ttc`;
    if (!existsSync(regular)) continue;
    const bold = `${dir}/NotoSansCJK-Bold.ttc`;
    return {
      regular: { file: regular, family: NOTO_FACES.regular },
      bold: existsSync(bold)
        ? { file: bold, family: NOTO_FACES.bold }
        : { file: regular, family: NOTO_FACES.regular },
    };
  }
  return undefined;
}

/** `file[#PostScriptName]` → a face; a Noto CJK collection without a name gets its Chinese face. */
function configuredFace(value: string): FontFace {
  const hash = value.lastIndexOf('#');
  const file = hash > 0 ? value.slice(0, hash) : value;
  const family = hash > 0 ? value.slice(hash + 1) : undefined;
  if (!existsSync(file)) throw new EvidenceError('NO_FONT', `CUSTODIA_PDF_FONT: no such font file ${file}`);
  if (family) return { file, family };
  if (/NotoSansCJK-Bold\.ttc$/.test(file)) return { file, family: NOTO_FACES.bold };
  if (/NotoSansCJK-\w+\.ttc$/.test(file)) return { file, family: NOTO_FACES.regular };
  if (/\.ttc$/i.test(file))
    throw new EvidenceError(
      'NO_FONT',
      `CUSTODIA_PDF_FONT: ${file} is a font collection: add the face's PostScript name, e.g. ${file}#NotoSansCJKsc-Regular`,
    );
  return { file };
}

/** The fonts of the evidence PDF, or `NO_FONT` naming the package to install. */
export function pdfFonts(env: NodeJS.ProcessEnv = process.env): PdfFonts {
  const configured = setting('CUSTODIA_PDF_FONT', env);
  if (configured) {
    const face = configuredFace(configured);
    return { regular: face, bold: face };
  }
  const found = notoFonts();
  if (found) return found;
  throw new EvidenceError(
    'NO_FONT',
    'no CJK font for the evidence PDF: install the Debian package fonts-noto-cjk ' +
      '(apt-get install fonts-noto-cjk), or set CUSTODIA_PDF_FONT to a .ttc/.otf/.ttf file with Chinese glyphs',
  );
}
