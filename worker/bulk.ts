/**
 * Bulk acts from the stalled view (reassign, remind): a job per request, run on the server in the
 * background with at most `concurrency` instances at a time, so a thousand instances never hold
 * an HTTP request open; the page polls the job for its progress and the result per instance.
 *
 * Jobs live in this process's memory for `keepMs` after they finish (the acts themselves are in
 * the audit log: each instance's `$assign` / `$remind` record, each refusal, and one summary
 * record per job). At most `maxRunning` jobs run at once per process.
 */
import { randomUUID } from 'node:crypto';

/** The bulk acts. */
export const BULK_ACTIONS = ['reassign', 'remind'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];
/** What a job does: a stalled-view act, or a migration of instances (`migration/`). */
export type BulkJobKind = BulkAction | 'migrate';

/** The outcome for one instance. */
export interface BulkResult {
  workflowId: string;
  ok: boolean;
  /** The refusal's code and reason when not ok. */
  code?: string;
  message?: string;
  /** What happened, for people (e.g. `rita → remy`). */
  detail?: string;
}

export interface BulkJob {
  id: string;
  owner: string;
  action: BulkJobKind;
  total: number;
  done: number;
  ok: number;
  refused: number;
  startedAt: string;
  finishedAt?: string;
  results: BulkResult[];
}

export interface BulkOptions {
  concurrency?: number;
  keepMs?: number;
  maxRunning?: number;
}

/** Too many bulk jobs are running in this process already. */
export class BulkBusy extends Error {
  override name = 'BulkBusy';
}

/** A process's bulk jobs. */
export class BulkJobs {
  private readonly jobs = new Map<string, BulkJob>();
  private running = 0;
  constructor(private readonly opts: BulkOptions = {}) {}

  /**
   * Start `act` over `targets` as `owner`; returns the job at once. `act` resolves to the
   * instance's result (a thrown error counts as a refusal with its message); `onFinished` runs
   * once every target is done.
   */
  start(
    owner: string,
    action: BulkJobKind,
    targets: readonly string[],
    act: (workflowId: string) => Promise<BulkResult>,
    onFinished?: (job: BulkJob) => Promise<void>,
  ): BulkJob {
    this.prune();
    if (this.running >= (this.opts.maxRunning ?? 4))
      throw new BulkBusy('too many bulk acts are running; try again when one has finished');
    const job: BulkJob = {
      id: randomUUID(),
      owner,
      action,
      total: targets.length,
      done: 0,
      ok: 0,
      refused: 0,
      startedAt: new Date().toISOString(),
      results: [],
    };
    this.jobs.set(job.id, job);
    this.running++;
    void this.run(job, targets, act)
      .then(() => onFinished?.(job))
      .catch(() => undefined)
      .finally(() => {
        this.running--;
        job.finishedAt = new Date().toISOString();
      });
    return job;
  }

  /** The job, for its owner only. */
  get(id: string, owner: string): BulkJob | undefined {
    const job = this.jobs.get(id);
    return job && job.owner === owner ? job : undefined;
  }

  private async run(
    job: BulkJob,
    targets: readonly string[],
    act: (workflowId: string) => Promise<BulkResult>,
  ): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < targets.length) {
        const workflowId = targets[next++]!;
        let r: BulkResult;
        try {
          r = await act(workflowId);
        } catch (err) {
          r = {
            workflowId,
            ok: false,
            code: 'FAILED',
            message: err instanceof Error ? err.message : String(err),
          };
        }
        job.results.push(r);
        job.done++;
        if (r.ok) job.ok++;
        else job.refused++;
      }
    };
    const n = Math.max(1, Math.min(this.opts.concurrency ?? 8, targets.length));
    await Promise.all(Array.from({ length: n }, worker));
  }

  private prune(): void {
    const keep = this.opts.keepMs ?? 3600_000;
    const now = Date.now();
    for (const [id, job] of this.jobs)
      if (job.finishedAt && now - Date.parse(job.finishedAt) > keep) this.jobs.delete(id);
  }
}
