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
