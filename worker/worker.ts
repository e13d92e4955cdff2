/**
 * The Temporal worker: runs the `procedure` workflow and its activities on the task queue.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, bundleWorkflowCode, type NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createProcedureActivities } from './activities/procedure.activities.ts';
import type { LoadedDefinition } from './definitions.ts';
import type { RecordsStore } from './records/store.ts';

/** The workflow entry point bundled into the sandbox. */
export const WORKFLOWS_PATH = path.resolve(fileURLToPath(new URL('../workflows/index.ts', import.meta.url)));

export interface WorkerOptions {
  connection: NativeConnection;
  client: Client;
  namespace: string;
  taskQueue: string;
  store: RecordsStore;
  definition(id: string): LoadedDefinition | undefined;
  /** A prebuilt bundle (tests and benchmarks reuse one); built from WORKFLOWS_PATH otherwise. */
  bundle?: WorkflowBundle;
  maxConcurrentWorkflowTaskExecutions?: number;
}

let cachedBundle: Promise<WorkflowBundle> | undefined;

/** Bundle the workflow code once per process. */
export function workflowBundle(): Promise<WorkflowBundle> {
  cachedBundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
  return cachedBundle;
}

const noop = (): void => {};
const quietBundlerLogger = {
  trace: noop,
  debug: noop,
  info: noop,
  log: noop,
  warn: (message: string, meta?: Record<string, unknown>) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta ?? ''),
};

export async function createCustodiaWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: opts.bundle ?? (await workflowBundle()),
    activities: createProcedureActivities({
      store: opts.store,
      client: opts.client,
      taskQueue: opts.taskQueue,
      definition: opts.definition,
    }),
    ...(opts.maxConcurrentWorkflowTaskExecutions
      ? { maxConcurrentWorkflowTaskExecutions: opts.maxConcurrentWorkflowTaskExecutions }
      : {}),
  });
}
