/**
 * The dashboard's picture of every instance's history, read from the records store's transition
 * records and kept up to date by reading only the records appended since (`transitionsAfter`):
 * the first dashboard of a process reads the whole log once, every later one the new records only.
 * It is a cache of the audit log, nothing more: rebuilt from it at any time, and each process
 * (several API processes on one PostgreSQL) keeps its own.
 * State names, actor ids and leaf lists are shared (interned), so memory grows with the number of
 * transitions, not with the length of their records.
 */
import { transitionsAfter, type TransitionRow } from './records/dashboard-queries.ts';
import type { RecordsStore } from './records/types.ts';

/** One transition of an instance. */
export interface Step {
  seq: number;
  /** Milliseconds since the epoch. */
  at: number;
  actor: string;
  /** Active leaf states after it. */
  leaves: readonly string[];
}

/** An instance as its transition records tell it. */
export interface InstanceHistory {
  id: string;
  procedure: string;
  version: string;
  /** The client of its latest record (none: an instance without a client). */
  client?: string;
  /** In `seq` order. */
  steps: Step[];
}

/**
 * Records read per query while catching up, each batch in its own short read-only transaction: the
 * embedded store runs one transaction at a time, and transitions being committed must not wait long.
 */
const BATCH = 5_000;

export class TransitionIndex {
  private position = 0;
  private readonly byId = new Map<string, InstanceHistory>();
  private readonly strings = new Map<string, string>();
  private readonly leafSets = new Map<string, readonly string[]>();
  private catchingUp: Promise<void> | undefined;

  constructor(private readonly store: Pick<RecordsStore, 'readOnly'>) {}

  /** Every instance with at least one transition record (after `refresh`). */
  instances(): IterableIterator<InstanceHistory> {
    return this.byId.values();
  }

  /** How many transition records have been read. */
  get size(): number {
    let n = 0;
    for (const i of this.byId.values()) n += i.steps.length;
    return n;
  }

  /** Read the records appended since the last call (one catch-up at a time; callers share it). */
  refresh(): Promise<void> {
    this.catchingUp ??= this.catchUp().finally(() => (this.catchingUp = undefined));
    return this.catchingUp;
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const rows = await this.store.readOnly((db) => transitionsAfter(db, this.position, BATCH));
      for (const row of rows) this.add(row);
      if (rows.length < BATCH) return;
    }
  }

  private intern(s: string): string {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    this.strings.set(s, s);
    return s;
  }

  private add(row: TransitionRow): void {
    this.position = Math.max(this.position, row.position);
    const key = row.leaves.join('\n');
    let leaves = this.leafSets.get(key);
    if (!leaves) this.leafSets.set(key, (leaves = Object.freeze(row.leaves.map((l) => this.intern(l)))));
    const step: Step = { seq: row.seq, at: row.at, actor: this.intern(row.actor), leaves };
    let inst = this.byId.get(row.subject);
    if (!inst) {
      inst = {
        id: row.subject,
        procedure: this.intern(row.procedure),
        version: this.intern(row.version),
        steps: [],
      };
      this.byId.set(row.subject, inst);
    }
    if (row.client !== null) inst.client = this.intern(row.client);
    else delete inst.client;
    inst.version = this.intern(row.version);
    const last = inst.steps.at(-1);
    inst.steps.push(step);
    // Records of one instance are committed in order; keep `seq` order should one arrive late.
    if (last && last.seq > step.seq) inst.steps.sort((a, b) => a.seq - b.seq);
  }
}

const indexes = new WeakMap<object, TransitionIndex>();

/** The store's index (one per store per process), caught up with the log. */
export async function transitionIndex(store: Pick<RecordsStore, 'readOnly'>): Promise<TransitionIndex> {
  let index = indexes.get(store);
  if (!index) indexes.set(store, (index = new TransitionIndex(store)));
  await index.refresh();
  return index;
}
