/**
 * Attachments without servers: the real type from the bytes (never the name), the upload limits,
 * the engine's shape and requirement rule on a compiled definition, and receipts (a made-up or
 * altered reference is refused; one signed for another instance too).
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { judgeUpload } from '../../worker/attachments/service.ts';
import { attachmentLimits } from '../../worker/attachments/limits.ts';
import { sniffFileType } from '../../worker/attachments/sniff.ts';
import { ApiProblem } from '../../worker/api/http.ts';
import { attachmentRefusal, type AttachmentRef } from '../../workflows/core/attachments.ts';
import { receiptMessage, receiptRefusal } from '../../workflows/core/attachment-receipts.ts';
import { keyIdOf } from '../../workflows/core/assertion.ts';
import { loadProcedure } from '../../workflows/core/load.ts';
import { checkProcedure } from '../../workflows/core/check.ts';
import type { Json, ProcedureIR } from '../../workflows/core/ir.ts';
import { docxBytes, pdfBytes, zipBytes } from '../support/attachments.ts';

const bytes = (...b: number[]): Uint8Array => new Uint8Array([...b, 0, 0, 0, 0, 0, 0, 0, 0]);
const text = (t: string): Uint8Array => new TextEncoder().encode(t);

describe('sniffFileType: the real type from the bytes', () => {
  it.each([
    ['a PDF', pdfBytes(), 'x.bin', 'application/pdf'],
    ['a PNG', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), 'x', 'image/png'],
    ['a JPEG', bytes(0xff, 0xd8, 0xff, 0xe0), 'photo.pdf', 'image/jpeg'],
    ['a GIF', text('GIF89a......'), 'x', 'image/gif'],
    ['a WebP', text('RIFF\u0000\u0000\u0000\u0000WEBPVP8 '), 'x', 'image/webp'],
    ['a TIFF', bytes(0x49, 0x49, 0x2a, 0x00), 'x', 'image/tiff'],
    [
      'a .docx',
      docxBytes(),
      'letter.pdf',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    ],
    [
      'an .xlsx',
      zipBytes({ '[Content_Types].xml': '<Types/>', 'xl/workbook.xml': '<w/>' }),
      'x',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    ],
    [
      'an .odt',
      zipBytes({ mimetype: 'application/vnd.oasis.opendocument.text', 'content.xml': '<c/>' }),
      'x',
      'application/vnd.oasis.opendocument.text',
    ],
    ['a legacy .doc', bytes(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1), 'old.DOC', 'application/msword'],
  ])('%s', (_what, content, name, type) => {
    expect(sniffFileType(content, name)).toBe(type);
  });

  it.each([
    ['plain text named .pdf', text('just text, not a PDF'), 'consent.pdf'],
    ['an HTML page named .png', text('<html><script>alert(1)</script></html>'), 'x.png'],
    ['an executable', bytes(0x4d, 0x5a, 0x90, 0x00), 'letter.pdf'],
    ['a ZIP that is no office document', zipBytes({ 'a.txt': 'a' }), 'archive.docx'],
    [
      'an OLE file without an office extension',
      bytes(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1),
      'x.msi',
    ],
    ['a truncated ZIP', text('PK\u0003\u0004 truncated'), 'x.docx'],
    ['nothing', new Uint8Array(0), 'x.pdf'],
  ])('refuses %s', (_what, content, name) => {
    expect(sniffFileType(content, name)).toBeUndefined();
  });
});

describe('upload limits (settings)', () => {
  const limits = attachmentLimits({
    CUSTODIA_ATTACHMENT_MAX_BYTES: '2000',
    CUSTODIA_ATTACHMENT_TYPES: 'pdf,image',
  });

  it('reads the size and the families from the settings, and refuses bad values', () => {
    expect(limits).toMatchObject({ maxBytes: 2000, families: ['pdf', 'image'] });
    expect(attachmentLimits({}).maxBytes).toBe(20 * 1024 * 1024);
    expect(() => attachmentLimits({ CUSTODIA_ATTACHMENT_MAX_BYTES: '-1' })).toThrow(/positive/);
    expect(() => attachmentLimits({ CUSTODIA_ATTACHMENT_TYPES: 'pdf,exe' })).toThrow(/pdf, image, office/);
  });

  it.each([
    ['too big', new Uint8Array(2001).fill(0x25), 'a.pdf', 413, 'ATTACHMENT_TOO_LARGE'],
    ['empty', new Uint8Array(0), 'a.pdf', 400, 'EMPTY_FILE'],
    ['of an unknown type', text('hello'), 'a.pdf', 415, 'ATTACHMENT_TYPE_REFUSED'],
    ['of a family this deployment refuses', docxBytes(), 'a.docx', 415, 'ATTACHMENT_TYPE_REFUSED'],
    ['named with a path', pdfBytes(), '../etc/passwd', 400, 'BAD_FILE_NAME'],
    ['named with a control character', pdfBytes(), 'a\nb.pdf', 400, 'BAD_FILE_NAME'],
  ])('refuses a file %s', (_what, content, name, status, code) => {
    const judged = judgeUpload(limits, name, content);
    expect(judged).toBeInstanceOf(ApiProblem);
    expect(judged).toMatchObject({ status, code });
  });

  it('accepts a PDF under the limit, typed from its bytes', () => {
    expect(judgeUpload(limits, '同意书.pdf', pdfBytes())).toEqual({ type: 'application/pdf' });
  });
});

const YAML = `id: att
version: 1.0.0
title: { zh: 附件, en: Attachments }
description: { zh: 附件, en: Attachments }
roles:
  staff: { zh: 员工, en: Staff }
events:
  CONSENT:
    title: { zh: 同意, en: Consent }
    attachments:
      consent_letter:
        title: { zh: 同意书, en: Consent letter }
        types: [pdf, image]
      annex:
        title: { zh: 附件, en: Annex }
        required: false
    data:
      type: object
      additionalProperties: false
      properties:
        ref: { type: string }
initial: open
states:
  open:
    title: { zh: 开, en: Open }
    on:
      CONSENT: { target: done, roles: staff }
  done: { title: { zh: 完, en: Done }, type: final }
`;

function loaded(yaml = YAML): ProcedureIR {
  const r = loadProcedure(yaml, 'att.yaml');
  if (!r.ir) throw new Error(JSON.stringify(r.diagnostics));
  return r.ir;
}

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const PUBLIC = publicKey.export({ format: 'jwk' }).x!;
const WF = 'att-1';

function ref(over: Partial<AttachmentRef> = {}, workflowId = WF): AttachmentRef {
  const base = {
    sha256: 'a'.repeat(64),
    name: 'consent.pdf',
    type: 'application/pdf' as const,
    size: 1234,
    ...over,
  };
  const signature = sign(null, Buffer.from(receiptMessage(workflowId, base), 'utf8'), privateKey);
  return {
    kind: 'consent_letter',
    receipt: `${keyIdOf(PUBLIC)}.${signature.toString('base64url')}`,
    ...base,
    ...over,
  };
}

const data = (...refs: unknown[]): Record<string, Json> => ({ ref: 'C-1', attachments: refs as Json });

describe('the engine’s rule (pure): shape, kinds, types, requirements', () => {
  const ir = loaded();

  it('accepts the required kind in an accepted family, plus an optional extra', () => {
    expect(attachmentRefusal(ir, 'CONSENT', data(ref()))).toBeUndefined();
    expect(
      attachmentRefusal(ir, 'CONSENT', data(ref(), ref({ sha256: 'b'.repeat(64), kind: 'annex' }))),
    ).toBeUndefined();
  });

  it.each([
    ['no file at all', { ref: 'C-1' }, 'ATTACHMENT_REQUIRED', /consent_letter \(Consent letter\)/],
    ['only the optional kind', data(ref({ kind: 'annex' })), 'ATTACHMENT_REQUIRED', /consent_letter/],
    [
      'an office file as the letter',
      data(ref({ type: 'application/msword' })),
      'BAD_ATTACHMENT',
      /pdf or image/,
    ],
    ['an undeclared kind', data(ref({ kind: 'selfie' })), 'BAD_ATTACHMENT', /no file of kind selfie/],
    ['a hash that is not one', data(ref({ sha256: 'xyz' })), 'BAD_ATTACHMENT', /sha256/],
    ['an unknown field', data({ ...ref(), url: 'http://x' }), 'BAD_ATTACHMENT', /unknown field/],
    ['the same file twice', data(ref(), ref()), 'BAD_ATTACHMENT', /twice/],
    [
      'a type the engine does not keep',
      data(ref({ type: 'text/html' as never })),
      'BAD_ATTACHMENT',
      /text\/html/,
    ],
  ])('refuses %s', (_what, d, code, message) => {
    const r = attachmentRefusal(ir, 'CONSENT', d as Record<string, Json>);
    expect(r?.code).toBe(code);
    expect(r?.message).toMatch(message);
    expect(r?.zh).toBeTruthy();
  });

  it('receipts: signed by a trusted key for this instance and these facts, else refused', () => {
    expect(receiptRefusal('CONSENT', data(ref()), [PUBLIC], WF)).toBeUndefined();
    // A made-up hash keeping someone's receipt, another instance's receipt, an untrusted key.
    expect(receiptRefusal('CONSENT', data({ ...ref(), sha256: 'c'.repeat(64) }), [PUBLIC], WF)?.code).toBe(
      'BAD_ATTACHMENT',
    );
    expect(receiptRefusal('CONSENT', data({ ...ref(), size: 1 }), [PUBLIC], WF)?.code).toBe('BAD_ATTACHMENT');
    expect(receiptRefusal('CONSENT', data(ref({}, 'att-2')), [PUBLIC], WF)?.code).toBe('BAD_ATTACHMENT');
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!;
    expect(receiptRefusal('CONSENT', data(ref()), [other], WF)?.message).toMatch(/no valid receipt/);
    expect(receiptRefusal('CONSENT', data({ ...ref(), receipt: 'forged' }), [PUBLIC], WF)?.code).toBe(
      'BAD_ATTACHMENT',
    );
  });

  it('the checker refuses a data schema that declares or requires the engine’s field', () => {
    const yaml = YAML.replace(
      '        ref: { type: string }',
      '        ref: { type: string }\n        attachments: { type: array }',
    ).replace(
      '      additionalProperties: false\n      properties:',
      '      additionalProperties: false\n      required: [attachments]\n      properties:',
    );
    const r = loadProcedure(yaml, 'att.yaml');
    const diagnostics = r.ir
      ? checkProcedure(r.ir, { file: 'att.yaml', positions: r.positions })
      : r.diagnostics;
    const reserved = diagnostics.filter((d) => d.code === 'PROC_ATTACHMENT_FIELD_RESERVED');
    expect(reserved.map((d) => d.pointer)).toEqual([
      '/events/CONSENT/data/required/0',
      '/events/CONSENT/data/properties/attachments',
    ]);
    expect(reserved[0]!.line).toBeGreaterThan(1);
  });

  it('the schema refuses an unknown file family', () => {
    const r = loadProcedure(YAML.replace('types: [pdf, image]', 'types: [pdf, video]'), 'att.yaml');
    expect(r.diagnostics.map((d) => d.code)).toContain('PROC_SCHEMA');
  });
});
