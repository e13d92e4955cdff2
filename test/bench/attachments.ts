/**
 * Attachments: how long storing and reading a file takes on the embedded store (PGlite in memory),
 * and sniffing its type. `npx tsx test/bench/attachments.ts [MiB]` (default 10).
 */
import { performance } from 'node:perf_hooks';
import { attachmentBytes, storeUpload } from '../../worker/attachments/service.ts';
import { attachmentLimits } from '../../worker/attachments/limits.ts';
import { sniffFileType } from '../../worker/attachments/sniff.ts';
import { openPgliteClient } from '../../worker/records/sql.ts';
import { createRecordsStore } from '../../worker/records/store.ts';

const mib = Number(process.argv[2] ?? 10);
const store = await createRecordsStore(await openPgliteClient(null));
const limits = attachmentLimits({ CUSTODIA_ATTACHMENT_MAX_BYTES: String(64 * 1024 * 1024) });
const content = new Uint8Array(mib * 1024 * 1024);
content.set(new TextEncoder().encode('%PDF-1.4\n'));
for (let i = 9; i < content.length; i++) content[i] = (i * 2654435761) >>> 24;

const ms = (t0: number): string => `${(performance.now() - t0).toFixed(1)} ms`;
let t = performance.now();
const type = sniffFileType(content, 'x.pdf');
console.log(`sniff ${mib} MiB: ${type} in ${ms(t)}`);
for (let run = 1; run <= 3; run++) {
  content[content.length - 1] = run;
  t = performance.now();
  const { attachment } = await storeUpload(store, limits, {
    workflowId: `bench-${run}`,
    client: 'acme',
    procedure: 'disclosure',
    name: 'big.pdf',
    content,
    uploadedBy: 'bench',
  });
  const stored = ms(t);
  t = performance.now();
  const back = await attachmentBytes(store, limits, attachment);
  await store.recordAttachmentRead(attachment, 'bench');
  console.log(`run ${run}: store ${stored}; read + hash check + audit ${ms(t)} (${back.length} bytes)`);
}
await store.close();
