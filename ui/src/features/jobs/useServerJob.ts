/**
 * A batch the server runs as a job (a migration, a bulk act from the stalled view): once started,
 * poll `GET <url>` until the job says it finished. One home for the polling that MigrationPanel and
 * BulkPanel share.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, asApiError, type ApiError } from '../../api.ts';

/** A job's progress and, once finished, its result per instance (the job routes' answer). */
export interface ServerJob {
  id: string;
  total: number;
  done: number;
  ok: number;
  refused: number;
  finishedAt?: string;
  results: { workflowId: string; ok: boolean; code?: string; message?: string; detail?: string }[];
}

/** The answer of the route that starts a job. */
export interface StartedJob {
  jobId: string;
  total: number;
}

/**
 * The job being followed (undefined until `follow`), polled every `intervalMs` until it finished;
 * `onFinished` once then, `onError` for a poll the server refused (polling stops: the job keeps its
 * last known progress).
 */
export function useServerJob(options: {
  intervalMs?: number;
  onError: (err: ApiError) => void;
  onFinished?: () => void;
}): { job: ServerJob | undefined; follow: (url: string, started: StartedJob) => void } {
  const [tracked, setTracked] = useState<{ url: string; job: ServerJob; failed?: boolean } | undefined>();
  // The callbacks of the latest render, without restarting the poll when their identity changes.
  const latest = useRef(options);
  latest.current = options;
  const interval = options.intervalMs ?? 500;

  const follow = useCallback((url: string, started: StartedJob) => {
    setTracked({
      url,
      job: { id: started.jobId, total: started.total, done: 0, ok: 0, refused: 0, results: [] },
    });
  }, []);

  useEffect(() => {
    if (!tracked || tracked.job.finishedAt || tracked.failed) return;
    let live = true;
    const t = window.setTimeout(() => {
      api<ServerJob>('GET', tracked.url).then(
        (job) => {
          if (!live) return;
          setTracked({ url: tracked.url, job });
          if (job.finishedAt) latest.current.onFinished?.();
        },
        (err: unknown) => {
          if (!live) return;
          setTracked({ ...tracked, failed: true });
          latest.current.onError(asApiError(err));
        },
      );
    }, interval);
    return () => {
      live = false;
      window.clearTimeout(t);
    };
  }, [tracked, interval]);

  return { job: tracked?.job, follow };
}
