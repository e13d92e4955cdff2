/**
 * An evidence pack's costly part — proving every definition version on all paths (seconds), the
 * clause coverage and the PDF — runs on a worker thread of its own for the API (STYLE rule 11),
 * under a wall-clock budget and a heap limit; one pack at a time per process, another asked for
 * meanwhile is refused at once (`EvidenceBusy`, 503). A thread that runs out is ended
 * (`EvidenceTooCostly`). The CLI makes its packs in-process.
 */
import { Worker } from 'node:worker_threads';
import type { PdfFonts } from './font.ts';
import type { PackFiles } from './pack.ts';
import type { EvidenceData } from './types.ts';

export interface PackThreadOptions {
  /** Wall-clock budget (default 120 s). */
  timeoutMs?: number;
  /** Heap of the thread in MB (default 768). */
  maxMemoryMb?: number;
}

export class EvidenceBusy extends Error {
  override name = 'EvidenceBusy';
}

export class EvidenceTooCostly extends Error {
  override name = 'EvidenceTooCostly';
}

const WORKER_URL = new URL('./pack-worker.mjs', import.meta.url);
let running = false;

/** `packFiles(data, fonts)` on a worker thread. */
export async function packFilesOffThread(
  data: EvidenceData,
  fonts: PdfFonts,
  opts: PackThreadOptions = {},
): Promise<PackFiles> {
  if (running) throw new EvidenceBusy('another evidence pack is being made; try again shortly');
  running = true;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const maxMemoryMb = opts.maxMemoryMb ?? 768;
  try {
    return await new Promise<PackFiles>((resolve, reject) => {
      const worker = new Worker(WORKER_URL, {
        workerData: { data, fonts },
        resourceLimits: { maxOldGenerationSizeMb: maxMemoryMb, maxYoungGenerationSizeMb: 64, stackSizeMb: 4 },
      });
      let outcome: Error | undefined;
      const timer = setTimeout(() => {
        outcome = new EvidenceTooCostly(
          `making the evidence pack exceeded ${timeoutMs / 1000} s; it was stopped`,
        );
        void worker.terminate();
      }, timeoutMs);
      worker.on('message', (msg: { pack?: PackFiles; error?: string }) => {
        clearTimeout(timer);
        if (msg.pack) resolve(msg.pack);
        else reject(new Error(`making the evidence pack failed: ${msg.error ?? 'no answer'}`));
        void worker.terminate();
      });
      worker.on('error', (err: Error & { code?: string }) => {
        clearTimeout(timer);
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new EvidenceTooCostly(`making the evidence pack ran out of memory (${maxMemoryMb} MB)`)
            : err,
        );
      });
      worker.on('exit', () => {
        clearTimeout(timer);
        reject(outcome ?? new Error('the evidence thread exited'));
      });
    });
  } finally {
    running = false;
  }
}
