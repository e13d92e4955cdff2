/**
 * Attached files for tests that drive the engine without the HTTP API: the file is stored in the
 * real records store for the instance, and its reference signed as the API signs it
 * (`referenceTo`, with the test actor key the test bundle trusts) — the API's own path, minus HTTP.
 */
import { actorSigner } from '../../worker/actor-keys.ts';
import { referenceTo } from '../../worker/attachments/service.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import type { Json } from '../../workflows/core/ir.ts';

/** A small, well-formed one-page PDF (its text makes each copy's content, and hash, distinct). */
export function pdfBytes(text = 'Signed consent letter'): Uint8Array {
  const stream = `BT /F1 12 Tf 72 720 Td (${text.replace(/[()\\]/g, '')}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(out);
}

/**
 * `data` with a PDF of `kind` attached: stored for `workflowId` in `store` and referenced with a
 * receipt (`procedure` is the workflow id's prefix, as `startProcedure` names instances).
 */
export async function withAttachment(
  store: RecordsStore,
  workflowId: string,
  kind: string,
  data: Record<string, unknown>,
  opts: { client?: string; name?: string } = {},
): Promise<Record<string, Json>> {
  const { attachment } = await store.putAttachment({
    workflowId,
    ...(opts.client ? { client: opts.client } : {}),
    procedure: workflowId.replace(/-[^-]+$/, ''),
    name: opts.name ?? `${kind}.pdf`,
    type: 'application/pdf',
    content: pdfBytes(`${kind} of ${workflowId}`),
    uploadedBy: 'test',
  });
  return {
    ...(data as Record<string, Json>),
    attachments: [referenceTo(actorSigner(), attachment, kind)] as unknown as Json,
  };
}

/** A ZIP holding `entries` (stored, CRC left 0: enough for the type sniffer, which reads names). */
export function zipBytes(entries: Record<string, string>): Uint8Array {
  const enc = new TextEncoder();
  const parts: number[] = [];
  const central: number[] = [];
  const u16 = (n: number): number[] => [n & 255, (n >> 8) & 255];
  const u32 = (n: number): number[] => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
  let count = 0;
  for (const [name, text] of Object.entries(entries)) {
    const n = [...enc.encode(name)];
    const data = [...enc.encode(text)];
    const offset = parts.length;
    parts.push(...u32(0x04034b50), ...u16(20), ...u16(0), ...u16(0), ...u16(0), ...u16(0), ...u32(0));
    parts.push(...u32(data.length), ...u32(data.length), ...u16(n.length), ...u16(0), ...n, ...data);
    central.push(...u32(0x02014b50), ...u16(20), ...u16(20), ...u16(0), ...u16(0), ...u16(0), ...u16(0));
    central.push(...u32(0), ...u32(data.length), ...u32(data.length), ...u16(n.length), ...u16(0), ...u16(0));
    central.push(...u16(0), ...u16(0), ...u32(0), ...u32(offset), ...n);
    count++;
  }
  const at = parts.length;
  const end = [...u32(0x06054b50), ...u16(0), ...u16(0), ...u16(count), ...u16(count)];
  end.push(...u32(central.length), ...u32(at), ...u16(0));
  return new Uint8Array([...parts, ...central, ...end]);
}

/** A minimal Word document (.docx): what the sniffer calls office. */
export function docxBytes(): Uint8Array {
  return zipBytes({
    '[Content_Types].xml': '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
    'word/document.xml': '<w:document/>',
  });
}
