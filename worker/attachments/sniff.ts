/**
 * The real type of a file, from its bytes (never from the name or the Content-Type the uploader
 * sent): PDF, PNG, JPEG, GIF, WebP, TIFF by their signatures; Office Open XML (docx, xlsx, pptx)
 * and OpenDocument (odt, ods) by the entries of the ZIP's central directory; legacy Office files
 * (doc, xls, ppt) by the OLE compound-file signature, told apart by the name's extension only
 * within that family. Anything else is `undefined` (refused).
 */
import type { FileType } from '../../workflows/core/attachments.ts';

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0): boolean =>
  b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);
const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

const SIGNATURES: ReadonlyArray<[FileType, (b: Uint8Array) => boolean]> = [
  ['application/pdf', (b) => startsWith(b, ascii('%PDF-'))],
  ['image/png', (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
  ['image/jpeg', (b) => startsWith(b, [0xff, 0xd8, 0xff])],
  ['image/gif', (b) => startsWith(b, ascii('GIF87a')) || startsWith(b, ascii('GIF89a'))],
  ['image/webp', (b) => startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8)],
  ['image/tiff', (b) => startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])],
];

const OLE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const ZIP_LOCAL = [0x50, 0x4b, 0x03, 0x04];

const LEGACY_OFFICE: Record<string, FileType> = {
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
};

const OPEN_DOCUMENT: Record<string, FileType> = {
  'application/vnd.oasis.opendocument.text': 'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet': 'application/vnd.oasis.opendocument.spreadsheet',
};

/** The file's real type, or undefined when it is none the engine keeps. */
export function sniffFileType(bytes: Uint8Array, name = ''): FileType | undefined {
  for (const [type, matches] of SIGNATURES) if (matches(bytes)) return type;
  if (startsWith(bytes, OLE)) return LEGACY_OFFICE[extensionOf(name)];
  if (startsWith(bytes, ZIP_LOCAL)) return zipDocumentType(bytes);
  return undefined;
}

function extensionOf(name: string): string {
  const i = name.lastIndexOf('.');
  return i < 0 ? '' : name.slice(i + 1).toLowerCase();
}

/** An Office Open XML or OpenDocument file, by its ZIP entries; undefined for any other ZIP. */
function zipDocumentType(bytes: Uint8Array): FileType | undefined {
  const names = zipEntryNames(bytes);
  if (!names) return undefined;
  if (names.includes('mimetype')) {
    // OpenDocument: the first entry, stored uncompressed, is the media type (at offset 38).
    const declared = new TextDecoder().decode(bytes.subarray(38, 38 + 60)).replace(/[^a-z0-9./-].*$/s, '');
    return OPEN_DOCUMENT[declared];
  }
  if (!names.includes('[Content_Types].xml')) return undefined;
  if (names.some((n) => n.startsWith('word/')))
    return 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
  if (names.some((n) => n.startsWith('xl/')))
    return 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  if (names.some((n) => n.startsWith('ppt/')))
    return 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
  return undefined;
}

/** The names in a ZIP's central directory (read from its end record), or undefined if malformed. */
export function zipEntryNames(bytes: Uint8Array): string[] | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record: 22 bytes plus a comment of at most 65,535.
  const lowest = Math.max(0, bytes.length - 22 - 0xffff);
  let end = -1;
  for (let i = bytes.length - 22; i >= lowest; i--)
    if (view.getUint32(i, true) === 0x06054b50) {
      end = i;
      break;
    }
  if (end < 0) return undefined;
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const names: string[] = [];
  const decoder = new TextDecoder();
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) return undefined;
    const nameLength = view.getUint16(at + 28, true);
    const extra = view.getUint16(at + 30, true);
    const comment = view.getUint16(at + 32, true);
    if (at + 46 + nameLength > bytes.length) return undefined;
    names.push(decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength)));
    at += 46 + nameLength + extra + comment;
  }
  return names;
}
