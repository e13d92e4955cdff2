/**
 * Drafts are assessed off the serving thread (STYLE rule 11): a small pool of `worker_threads`
 * runs the one draft pipeline (`assessDraft`: load, check, prove, start targets) for the API's
 * validate and deploy routes. Each draft gets a wall-clock budget and the thread memory limits;
 * a draft that runs out ends its thread and is answered `DraftTooCostly` (422
 * `DEFINITION_TOO_COSTLY`, saying what ran out) — the API and the worker on the main thread never
 * wait for it. At most `threads` drafts run at once and `maxQueue` wait; beyond that the pool
 * refuses at once (`DraftPoolBusy`, 503).
 *
 * The known definitions cross as plain `{file, ir, hash}` (their source positions are not
 * transferable); diagnostics the draft causes in a known definition get their line and column back
 * here, from that definition's positions.
 */
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../workflows/core/diagnostics.ts';
import type { DraftAssessment, DraftStep, LoadedDefinition } from './drafts.ts';

export interface DraftPoolOptions {
  /** Threads assessing at once (default 1). */
  threads?: number;
  /** Drafts allowed to wait for a thread (default 4). */
  maxQueue?: number;
  /** Wall-clock budget of one draft, from when its thread takes it (default 5 s). */
  timeoutMs?: number;
  /** Heap of a thread in MB (default 256). */
  maxMemoryMb?: number;
}

/** What ran out while assessing a draft. */
export type DraftResource = 'time' | 'memory';

/** The draft needed more than its budget; its thread was ended. */
export class DraftTooCostly extends Error {
  override name = 'DraftTooCostly';
  constructor(
    readonly resource: DraftResource,
    message: string,
  ) {
    super(message);
  }
}

/** The pool is full: try again shortly. */
export class DraftPoolBusy extends Error {
  override name = 'DraftPoolBusy';
}

export type AssessDraftAsync = (
  yaml: string,
  file: string,
  known: ReadonlyMap<string, LoadedDefinition>,
) => Promise<DraftAssessment>;

export interface DraftPool {
  assess: AssessDraftAsync;
  /** Drafts running and waiting. */
  load(): { running: number; waiting: number };
  close(): Promise<void>;
}

interface Task {
  yaml: string;
  file: string;
  known: ReadonlyMap<string, LoadedDefinition>;
  resolve(a: DraftAssessment): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  current?: { id: number; task: Task; timer: NodeJS.Timeout; step?: DraftStep; outcome?: Error };
}

const WORKER_URL = new URL('./draft-worker.mjs', import.meta.url);

interface Message {
  id?: number;
  ready?: boolean;
  step?: DraftStep;
  assessment?: DraftAssessment;
  error?: string;
}

/** What ran out of time, by the step it was in. */
const STEP_NAMES: Record<DraftStep, string> = {
  load: 'loading and checking the draft',
  prove: 'the proof of its invariants',
  links: 'checking its start links',
};

export function createDraftPool(opts: DraftPoolOptions = {}): DraftPool {
  const size = Math.max(1, opts.threads ?? 1);
  const maxQueue = opts.maxQueue ?? 4;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const maxMemoryMb = opts.maxMemoryMb ?? 256;
  const slots: Slot[] = [];
  const queue: Task[] = [];
  let nextId = 1;
  let closed = false;

  const spawn = (): Slot => {
    const worker = new Worker(WORKER_URL, {
      resourceLimits: { maxOldGenerationSizeMb: maxMemoryMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
    });
    const slot: Slot = { worker, ready: false };
    worker.unref();
    worker.on('message', (msg: Message) => {
      if (msg.ready) {
        slot.ready = true;
        pump();
        return;
      }
      const cur = slot.current;
      if (!cur || msg.id !== cur.id) return;
      if (msg.step) {
        cur.step = msg.step;
        return;
      }
      clearTimeout(cur.timer);
      slot.current = undefined;
      if (msg.error !== undefined || !msg.assessment)
        cur.task.reject(new Error(`assessing the draft failed: ${msg.error ?? 'no answer'}`));
      else cur.task.resolve(withKnownPositions(msg.assessment, cur.task));
      pump();
    });
    const lost = (err: Error): void => {
      const i = slots.indexOf(slot);
      if (i >= 0) slots.splice(i, 1);
      const cur = slot.current;
      slot.current = undefined;
      if (cur) {
        clearTimeout(cur.timer);
        cur.task.reject(cur.outcome ?? err);
      }
      // A thread ended for a costly draft is replaced at once, so the next draft finds one ready
      // (not one that failed to start: that would loop).
      if (slot.ready && !closed && slots.length < size) spawn();
      pump();
    };
    worker.on('error', (err: Error & { code?: string }) =>
      lost(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new DraftTooCostly('memory', `assessing the draft ran out of memory (${maxMemoryMb} MB)`)
          : err,
      ),
    );
    worker.on('exit', () => lost(new Error('the draft thread exited')));
    slots.push(slot);
    return slot;
  };

  const pump = (): void => {
    while (queue.length && !closed) {
      const free = slots.find((s) => s.ready && !s.current);
      if (!free) {
        if (slots.length < size) spawn();
        return;
      }
      const task = queue.shift()!;
      const id = nextId++;
      const timer = setTimeout(() => {
        if (free.current?.id === id)
          free.current.outcome = new DraftTooCostly(
            'time',
            `${STEP_NAMES[free.current.step ?? 'load']} exceeded ${timeoutMs / 1000} s; it was stopped`,
          );
        void free.worker.terminate(); // 'exit' rejects the task and frees the slot
      }, timeoutMs);
      timer.unref();
      free.current = { id, task, timer };
      const known = [...task.known.values()].map(({ file, ir, hash }) => ({ file, ir, hash }));
      free.worker.postMessage({ id, yaml: task.yaml, file: task.file, known });
    }
  };

  const assess: AssessDraftAsync = (yaml, file, known) => {
    if (closed) return Promise.reject(new Error('the draft pool is closed'));
    const idle = slots.some((s) => !s.current) || slots.length < size;
    if (!idle && queue.length >= maxQueue)
      return Promise.reject(new DraftPoolBusy('too many drafts are being assessed; try again shortly'));
    return new Promise((resolve, reject) => {
      queue.push({ yaml, file, known, resolve, reject });
      pump();
    });
  };

  return {
    assess,
    load: () => ({ running: slots.filter((s) => s.current).length, waiting: queue.length }),
    async close() {
      closed = true;
      for (const t of queue.splice(0)) t.reject(new Error('the draft pool is closed'));
      await Promise.all(slots.splice(0).map((s) => s.worker.terminate()));
    },
  };
}

/** Line and column, from the known definition's positions, of diagnostics the draft causes there. */
function withKnownPositions(a: DraftAssessment, task: Task): DraftAssessment {
  const byFile = new Map([...task.known.values()].map((def) => [def.file, def]));
  const place = (d: Diagnostic): Diagnostic => {
    const positions = d.file === task.file ? undefined : byFile.get(d.file)?.positions;
    if (!positions) return d;
    const { line, column } = positions.value(d.pointer);
    return { ...d, line, column };
  };
  return { ...a, diagnostics: a.diagnostics.map(place) };
}
