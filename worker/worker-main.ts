/**
 * `npm run worker`: a worker process only, against TEMPORAL_ADDRESS (or the configured local dev
 * server's address). Run as many as needed to scale out.
 */
import { loadConfig } from './config.ts';
import { runWorker } from './process.ts';
import { serveMetrics } from './metrics.ts';
import { warnUnknownSettings, workerMetricsPort } from './settings.ts';
import { startIdleMemoryRelease } from './memory-release.ts';

async function main(): Promise<void> {
  warnUnknownSettings();
  // Heap pages grown in a busy period go back to the system once idle (README "Memory").
  startIdleMemoryRelease();
  const config = loadConfig();
  const running = await runWorker(config);
  const port = workerMetricsPort();
  const metrics = port === undefined ? undefined : await serveMetrics(port);
  if (metrics) console.log(`custodia worker: metrics at ${metrics.url}/metrics`);
  console.log(
    `custodia worker: task queue "${config.taskQueue}", ${running.definitions.size} procedure(s) ` +
      `(started in ${(performance.now() / 1000).toFixed(1)} s)`,
  );
  const stop = (): void => void running.shutdown().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await running.done;
}

main().catch((err: unknown) => {
  console.error(`custodia worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
