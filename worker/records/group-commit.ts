/**
 * Group commit: writes that arrive while one is being written wait, and the next transaction
 * writes them all together (classic group commit, no timer). The first write on an idle
 * committer starts at once, alone, by `one` — today's path, so a lone write costs what it did;
 * the ones that queued meanwhile go, in arrival order and at most `maxBatch` at a time, to
 * `batch` (one transaction). When a batch fails, each of its writes is retried on its own by `one`,
 * in order, so a bad write fails only its own caller. Every caller's promise settles with its own
 * write: resolved once it is durably committed (or was already), rejected when it cannot be.
 *
 * The records store uses it for the audit records of transitions (`SqlRecordsStore.commit`):
 * every commit takes the one global chain head `FOR UPDATE` and flushes the WAL, so commits of
 * many instances at once serialize there; a batch pays both once.
 */

export interface GroupCommitOptions {
  /** Most writes in one batch; the rest go to the next one. Default 64. */
  maxBatch?: number;
  /** Off: every write by `one`, concurrently as they come (before group commit; benchmarks, tests). */
  enabled?: boolean;
  /** After each transaction that committed: how many writes it carried (metrics). */
  onTransaction?: (writes: number) => void;
}

/** Counts since the committer was created (tests and benchmarks). */
export interface GroupCommitStats {
  /** Writes submitted and settled. */
  writes: number;
  /** Transactions of more than one write that committed. */
  batches: number;
  /** Writes those batches carried. */
  batched: number;
  /** Batches that failed, their writes then retried one by one. */
  failedBatches: number;
}

interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupCommitter<T> {
  private readonly queue: Pending<T>[] = [];
  private running = false;
  private readonly maxBatch: number;
  private enabled: boolean;
  private readonly onTransaction: (writes: number) => void;
  readonly stats: GroupCommitStats = { writes: 0, batches: 0, batched: 0, failedBatches: 0 };

  constructor(
    /** One write in a transaction of its own. */
    private readonly one: (item: T) => Promise<void>,
    /** Several writes, in order, in one transaction (all or none). */
    private readonly batch: (items: T[]) => Promise<void>,
    opts: GroupCommitOptions = {},
  ) {
    this.maxBatch = Math.max(1, opts.maxBatch ?? 64);
    this.enabled = opts.enabled ?? true;
    this.onTransaction = opts.onTransaction ?? (() => {});
  }

  /** Turn grouping on or off from the next write on (benchmarks: the same store both ways, phase by phase). */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
  }

  /** Resolves once `item` is committed; rejects with its own error when it cannot be. */
  submit(item: T): Promise<void> {
    if (!this.enabled) return this.counted(this.one(item));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async counted(p: Promise<void>): Promise<void> {
    try {
      await p;
      this.onTransaction(1);
    } finally {
      this.stats.writes++;
    }
  }

  /** Write what is queued, batch after batch, until nothing is. */
  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length) {
        const group = this.queue.splice(0, this.maxBatch);
        if (group.length > 1) {
          let ok = false;
          try {
            await this.batch(group.map((p) => p.item));
            ok = true;
          } catch {
            this.stats.failedBatches++;
          }
          if (ok) {
            this.onTransaction(group.length);
            this.stats.batches++;
            this.stats.batched += group.length;
            this.stats.writes += group.length;
            for (const p of group) p.resolve();
            continue;
          }
        }
        // Alone, or a failed batch's writes one by one (in order: one instance's stay in sequence).
        for (const p of group) await this.counted(this.one(p.item)).then(p.resolve, p.reject);
      }
    } finally {
      this.running = false;
    }
  }
}
