/**
 * The Temporal worker: runs the `procedure` workflow and its activities on the task queue.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, bundleWorkflowCode, type NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
// Types only: webpack is the Temporal bundler's own (its DefinePlugin is reached through the compiler).
import type { Compiler, WebpackPluginInstance } from 'webpack';
import { createProcedureActivities, type ActivityDeps } from './activities/procedure.activities.ts';
import { commitSinks } from './activities/commit-sink.ts';
import type { DeploymentDeps } from './activities/deploy-definition.ts';
import { trustedActorKeys } from './actor-keys.ts';
import type { LoadedDefinition } from './definitions.ts';
import type { RecordsStore } from './records/store.ts';
import { maxCachedWorkflows, maxConcurrentWorkflowTasks } from './settings.ts';
import { cachedBundle } from './workflow-bundle-cache.ts';
import { bundleInChildProcess } from './workflow-bundle-build.ts';
import { asciiOnly, WORKFLOW_BUNDLE_DEVTOOL } from './workflow-bundle-options.ts';

/** The workflow entry point bundled into the sandbox. */
export const WORKFLOWS_PATH = path.resolve(fileURLToPath(new URL('../workflows/index.ts', import.meta.url)));

export interface WorkerOptions {
  connection: NativeConnection;
  client: Client;
  namespace: string;
  taskQueue: string;
  store: RecordsStore;
  definition(id: string): LoadedDefinition | undefined;
  /** Deploying approved definition changes (the `deploy_definition` effect). */
  deployments?: DeploymentDeps;
  /** A prebuilt bundle (tests and benchmarks reuse one); built from WORKFLOWS_PATH otherwise. */
  bundle?: WorkflowBundle;
  maxConcurrentWorkflowTaskExecutions?: number;
  /** Instances kept in memory between events (default: the `CUSTODIA_MAX_CACHED_WORKFLOWS` setting). */
  maxCachedWorkflows?: number;
}

const cachedBundles = new Map<string, Promise<WorkflowBundle>>();

/**
 * Bundle the workflow code once per process and set of trusted actor keys (default:
 * `trustedActorKeys()`). The keys are compiled in as `__CUSTODIA_ACTOR_KEYS__`, which only the
 * `event` update's validator reads (see procedure.workflow.ts): nothing of them enters history.
 */
export function workflowBundle(actorKeys: readonly string[] = trustedActorKeys()): Promise<WorkflowBundle> {
  const keys = actorKeys.join(',');
  let bundle = cachedBundles.get(keys);
  if (!bundle) {
    // Remembered on disk while the sources are unchanged (workflow-bundle-cache.ts); built in a
    // child process, which takes webpack's memory with it (workflow-bundle-build.ts).
    bundle = cachedBundle(keys, () => bundleInChildProcess(actorKeys));
    cachedBundles.set(keys, bundle);
  }
  return bundle;
}

/**
 * Bundle the workflow code here, in this process (workflow-bundle-main.mjs runs it): ASCII only,
 * with a small inline source map (workflow-bundle-options.ts).
 */
export async function buildWorkflowBundle(actorKeys: readonly string[]): Promise<{ code: string }> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: quietBundlerLogger,
    preloadModules: PRELOADED_MODULES,
    webpackConfigHook: (config) => ({
      ...config,
      devtool: WORKFLOW_BUNDLE_DEVTOOL,
      plugins: [...(config.plugins ?? []), actorKeysPlugin(actorKeys)],
    }),
  });
  return { code: asciiOnly(code) };
}

/**
 * Modules evaluated once per reusable V8 context instead of once per workflow. The SDK gives every
 * cached workflow its own instance of every other module of the bundle; these are shared and
 * frozen (their exports). `@noble/curves` builds its Ed25519 precomputation tables lazily, at a
 * workflow's first assertion check, which costs tens of ms — per workflow if not shared;
 * `assertion-keys.ts` keeps each trusted key's decoded point and table. The pure core the workflow code imports (and with it xstate, ajv, the CEL evaluator, RE2, yaml) is
 * ~0.35 MB of V8 heap per cached workflow when not shared (README "Memory"). Only modules without
 * per-workflow state belong here: `workflows/core` is pure by rule (no `@temporalio/workflow`, no
 * I/O); its module-level caches memoise pure functions of their keys (compiled expressions,
 * patterns), which any workflow may share.
 */
export const PRELOADED_MODULES = [
  '@noble/curves/ed25519.js',
  ...[
    'actions/index.ts',
    'assertion.ts',
    'assertion-keys.ts',
    'assignment.ts',
    'attachment-receipts.ts',
    'calendar.ts',
    'call.ts',
    'compile.ts',
    'hash.ts',
    'migration-step.ts',
    'rejections.ts',
    'reminder.ts',
    'runtime.ts',
    'sla.ts',
    'sla-since.ts',
    'start-fields.ts',
  ].map((file) => path.resolve(fileURLToPath(new URL(`../workflows/core/${file}`, import.meta.url)))),
];

/**
 * The webpack plugin that compiles `actorKeys` into a workflow bundle as `__CUSTODIA_ACTOR_KEYS__`
 * (webpack's own DefinePlugin, reached through the compiler), for bundles built elsewhere (bench).
 */
export function actorKeysPlugin(actorKeys: readonly string[]): WebpackPluginInstance {
  const keys = JSON.stringify(actorKeys.join(','));
  return {
    apply(compiler: Compiler) {
      new compiler.webpack.DefinePlugin({ __CUSTODIA_ACTOR_KEYS__: keys }).apply(compiler);
    },
  };
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

/**
 * What every worker running the `procedure` workflow registers: its activities, and the sink that
 * writes a commit in the activation (`workflows/audit-commit.ts`) — without it such a commit would
 * be dropped by the SDK with an error line.
 */
export function procedureWorkerParts(deps: ActivityDeps): {
  activities: ReturnType<typeof createProcedureActivities>;
  sinks: ReturnType<typeof commitSinks>;
} {
  const activities = createProcedureActivities(deps);
  return { activities, sinks: commitSinks(activities.commitTransition) };
}

export async function createCustodiaWorker(opts: WorkerOptions): Promise<Worker> {
  const cached = opts.maxCachedWorkflows ?? maxCachedWorkflows();
  // At most the cache (a cache needs at least 2 task slots); `CUSTODIA_MAX_CONCURRENT_WORKFLOW_TASKS`.
  const wanted = opts.maxConcurrentWorkflowTaskExecutions ?? maxConcurrentWorkflowTasks();
  const concurrent = cached > 0 ? Math.max(2, Math.min(wanted, cached)) : wanted;
  const parts = procedureWorkerParts({
    store: opts.store,
    client: opts.client,
    taskQueue: opts.taskQueue,
    definition: opts.definition,
    ...(opts.deployments ? { deployments: opts.deployments } : {}),
  });
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: opts.bundle ?? (await workflowBundle()),
    ...parts,
    // Bounded: left to the SDK, the cache grows with the machine's memory (3.8 GB of worker RSS
    // at 10,000 running instances); README "Performance".
    maxCachedWorkflows: cached,
    maxConcurrentWorkflowTaskExecutions: concurrent,
  });
}
