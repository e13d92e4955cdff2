// One evidence pack's costly part (pool.ts): the proofs, the coverage, the PDF and the files, off
// the API's serving thread and under its memory limits. Plain JS so it starts without a build step;
// the TypeScript it imports goes through tsx's loader, as draft-worker.mjs does.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { packFiles } = await import('./pack.ts');

try {
  const p = await packFiles(workerData.data, workerData.fonts);
  parentPort.postMessage(
    { pack: p },
    Object.values(p.files).map((bytes) => bytes.buffer),
  );
} catch (err) {
  parentPort.postMessage({ error: err instanceof Error ? err.message : String(err) });
}
