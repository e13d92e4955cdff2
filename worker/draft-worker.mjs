// A draft-assessing thread of the API's pool (draft-pool.ts): runs the one draft pipeline
// (drafts.ts: load → check → prove → start targets) off the serving thread, under the pool's
// memory limits and wall-clock budget. Plain JS so it starts without a build step; the TypeScript
// it imports goes through tsx's loader, as the CLI's does.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { aliasBudgetDiagnostic, assessDraft } = await import('./drafts.ts');

parentPort.on('message', (task) => {
  try {
    // `known` arrives as plain {file, ir, hash} (source positions stay on the serving thread).
    const bomb = aliasBudgetDiagnostic(task.yaml, task.file);
    if (bomb) {
      parentPort.postMessage({
        id: task.id,
        assessment: { valid: false, file: task.file, diagnostics: [bomb] },
      });
      return;
    }
    const known = new Map(task.known.map((def) => [def.ir.id, def]));
    const onStep = (step) => parentPort.postMessage({ id: task.id, step });
    const a = assessDraft(task.yaml, task.file, known, { onStep });
    const definition = a.definition && {
      file: a.definition.file,
      ir: a.definition.ir,
      hash: a.definition.hash,
    };
    parentPort.postMessage({
      id: task.id,
      assessment: { valid: a.valid, file: a.file, diagnostics: a.diagnostics, proof: a.proof, definition },
    });
  } catch (err) {
    parentPort.postMessage({ id: task.id, error: err instanceof Error ? err.message : String(err) });
  }
});
parentPort.postMessage({ ready: true });
