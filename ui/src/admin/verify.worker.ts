/** Runs the invariant proof off the main thread (it can take seconds on a large definition). */
import type { ProcedureIR } from '../../../workflows/core/ir.ts';
import { verifyProcedure } from '../../../workflows/core/verify.ts';

self.onmessage = (e: MessageEvent<{ ir: ProcedureIR }>) => {
  try {
    self.postMessage({ ok: true, result: verifyProcedure(e.data.ir) });
  } catch (err) {
    self.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
};
