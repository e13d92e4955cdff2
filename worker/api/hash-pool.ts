/**
 * Password verification off the serving thread: a bounded pool of `worker_threads` running
 * `records/passwords.ts`'s argon2id (its parameters unchanged). At most `threads` hashes run at once
 * and at most `maxQueue` wait; beyond that the pool refuses at once (`HashPoolBusy`, answered 503
 * with Retry-After) rather than letting sign-ins pile up. A task that outlives `timeoutMs` ends its
 * thread (a new one is started for the next task).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { PasswordVerifier } from '../records/types.ts';

export interface HashPoolOptions {
  /** Threads hashing at once (default: cores − 1, at least 1, at most 4). */
  threads?: number;
  /** Tasks allowed to wait for a thread (default 32). */
  maxQueue?: number;
  /** Longest one verification may take (default 10 s). */
  timeoutMs?: number;
}

/** The pool is full: try again shortly. */
export class HashPoolBusy extends Error {
  override name = 'HashPoolBusy';
}

export interface HashPool extends PasswordVerifier {
  /** Tasks running and waiting. */
  load(): { running: number; waiting: number };
  close(): Promise<void>;
}

type Task = { op: 'verify'; password: string; stored: string } | { op: 'burn'; password: string };

interface Pending {
  task: Task;
  resolve(ok: boolean): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  current?: { id: number; pending: Pending; timer: NodeJS.Timeout };
}

const WORKER_URL = new URL('./hash-worker.mjs', import.meta.url);

export function createHashPool(opts: HashPoolOptions = {}): HashPool {
  const size = Math.max(1, opts.threads ?? Math.min(4, availableParallelism() - 1));
  const maxQueue = opts.maxQueue ?? 32;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const slots: Slot[] = [];
  const queue: Pending[] = [];
  let nextId = 1;
  let closed = false;

  const spawn = (): Slot => {
    const slot: Slot = { worker: new Worker(WORKER_URL) };
    slot.worker.unref();
    slot.worker.on('message', (msg: { id?: number; ok?: boolean; error?: string }) => {
      const cur = slot.current;
      if (!cur || msg.id !== cur.id) return;
      clearTimeout(cur.timer);
      slot.current = undefined;
      if (msg.error !== undefined) cur.pending.reject(new Error(`password hashing failed: ${msg.error}`));
      else cur.pending.resolve(msg.ok === true);
      pump();
    });
    const lost = (err: Error): void => {
      const i = slots.indexOf(slot);
      if (i >= 0) slots.splice(i, 1);
      const cur = slot.current;
      slot.current = undefined;
      if (cur) {
        clearTimeout(cur.timer);
        cur.pending.reject(err);
      }
      pump();
    };
    slot.worker.on('error', lost);
    slot.worker.on('exit', () => lost(new Error('password hashing thread exited')));
    slots.push(slot);
    return slot;
  };

  const pump = (): void => {
    while (queue.length && !closed) {
      const slot = slots.find((s) => !s.current) ?? (slots.length < size ? spawn() : undefined);
      if (!slot) return;
      const pending = queue.shift()!;
      const id = nextId++;
      const timer = setTimeout(() => {
        void slot.worker.terminate();
        // 'exit' rejects the task and frees the slot.
      }, timeoutMs);
      timer.unref();
      slot.current = { id, pending, timer };
      slot.worker.postMessage({ id, ...pending.task });
    }
  };

  const run = (task: Task): Promise<boolean> => {
    if (closed) return Promise.reject(new Error('the password hashing pool is closed'));
    const idle = slots.some((s) => !s.current) || slots.length < size;
    if (!idle && queue.length >= maxQueue)
      return Promise.reject(new HashPoolBusy('too many sign-ins at once; try again shortly'));
    return new Promise((resolve, reject) => {
      queue.push({ task, resolve, reject });
      pump();
    });
  };

  return {
    verify: (password, stored) => run({ op: 'verify', password, stored }),
    burn: async (password) => {
      await run({ op: 'burn', password });
    },
    load: () => ({ running: slots.filter((s) => s.current).length, waiting: queue.length }),
    async close() {
      closed = true;
      for (const p of queue.splice(0)) p.reject(new Error('the password hashing pool is closed'));
      await Promise.all(slots.splice(0).map((s) => s.worker.terminate()));
    },
  };
}
