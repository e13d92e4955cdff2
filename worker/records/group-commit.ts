/**
 * Group commit: writes that arrive while one is being written wait, and the next transaction
 * writes them all together (classic group commit, no timer). The first write on an idle
 * committer starts at once, alone, in a transaction of its own; the ones that queued meanwhile go,
 * in arrival order and at most `maxBatch` at a time, to one transaction. When a batch fails, each of
 * its writes is retried in a transaction of its own, in order, so a bad write fails only its own
 * caller. Every caller's promise settles with its own
 * write: resolved once it is durably committed (or was already), rejected when it cannot be.
 *
 * The records store uses it for the audit records of transitions (`SqlRecordsStore.commit`):
 * every commit takes the one global chain head `FOR UPDATE` and flushes the WAL, so commits of
 * many instances at once serialize there; a batch pays both once.
 */

export interface GroupCommitOptions {
  /** Most writes in one batch; the rest go to the next one. Default 64. */
  maxBatch?: number;
  /** Off: every write alone, concurrently as they come (before group commit; benchmarks, tests). */
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
    /** Writes, in order, in one transaction (all or none): one alone, or a batch. */
    private readonly write: (items: T[]) => Promise<void>,
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
    if (!this.enabled) return this.alone(item);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  /** `item` in a transaction of its own. */
  private async alone(item: T): Promise<void> {
    try {
      await this.write([item]);
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
            await this.write(group.map((p) => p.item));
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
        for (const p of group) await this.alone(p.item).then(p.resolve, p.reject);
      }
    } finally {
      this.running = false;
    }
  }
}
