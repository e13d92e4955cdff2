/**
 * Health and metrics, on the API's port, without a session (DESIGN "Health and metrics"):
 * `GET /healthz` (the process runs), `GET /readyz` (Temporal and the records store answer within
 * `CUSTODIA_READY_TIMEOUT_MS`; 503 naming the one that does not), `GET /metrics` (Prometheus text:
 * Custodia's own `custodia_*` metrics, then the Temporal SDK's when `CUSTODIA_SDK_METRICS_ADDRESS`
 * is set).
 */
import { WORKFLOW_TYPE } from '../../../workflows/api.ts';
import { METRICS, overdueInstances } from '../../metrics.ts';
import { readyTimeoutMs, sdkMetricsAddress } from '../../settings.ts';
import { quote } from '../../visibility.ts';
import type { ApiContext } from '../context.ts';
import { sendJson, sendText } from '../http.ts';
import { defineRoute } from '../route.ts';

const started = Date.now();

/** `fn`'s result, or a rejection once `ms` have passed. */
async function within<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export type CheckResult = { ok: true; ms: number } | { ok: false; ms: number; error: string };

async function check(fn: () => Promise<unknown>): Promise<CheckResult> {
  const t0 = Date.now();
  try {
    await fn();
    return { ok: true, ms: Date.now() - t0 };
  } catch (err) {
    return { ok: false, ms: Date.now() - t0, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Whether Temporal (a system-info call with a deadline) and the records store (a SELECT) answer. */
export async function readiness(
  app: Pick<ApiContext, 'client' | 'store'>,
  ms = readyTimeoutMs(),
): Promise<{ temporal: CheckResult; records: CheckResult }> {
  const [temporal, records] = await Promise.all([
    check(() =>
      within(ms, 'Temporal', () =>
        app.client.connection.withDeadline(Date.now() + ms, () =>
          app.client.workflowService.getSystemInfo({}),
        ),
      ),
    ),
    // A one-row SELECT on the users table through the store.
    check(() => within(ms, 'the records store', () => app.store.setupPending())),
  ]);
  return { temporal, records };
}

const CHECK_SCHEMA = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, ms: { type: 'number' }, error: { type: 'string' } },
};
const READY_SCHEMA = {
  type: 'object',
  properties: {
    ready: { type: 'boolean' },
    down: { type: 'array', items: { enum: ['temporal', 'records'] } },
    checks: { type: 'object', properties: { temporal: CHECK_SCHEMA, records: CHECK_SCHEMA } },
  },
};

const healthz = defineRoute({
  method: 'GET',
  path: '/healthz',
  summary: 'Liveness: 200 while the process runs',
  auth: 'public',
  responses: {
    200: {
      description: 'alive',
      schema: {
        type: 'object',
        properties: { status: { const: 'ok' }, uptimeSeconds: { type: 'number' } },
      },
    },
  },
  async handle({ res }) {
    sendJson(res, 200, { status: 'ok', uptimeSeconds: Math.round((Date.now() - started) / 1000) });
  },
});

const readyz = defineRoute({
  method: 'GET',
  path: '/readyz',
  summary: 'Readiness: 200 only when Temporal and the records store answer',
  auth: 'public',
  responses: {
    200: { description: 'both answer', schema: READY_SCHEMA },
    503: {
      description: 'Temporal and/or the records store do not answer (`down` names them)',
      schema: READY_SCHEMA,
    },
  },
  async handle({ res }, app) {
    const checks = await readiness(app);
    const down = (Object.keys(checks) as (keyof typeof checks)[]).filter((k) => !checks[k].ok);
    res.setHeader('cache-control', 'no-store');
    sendJson(res, down.length ? 503 : 200, { ready: !down.length, down, checks });
  },
});

/** Set the overdue gauge from one visibility count per procedure (skipped when Temporal is slow). */
async function countOverdue(app: ApiContext, ms: number): Promise<void> {
  const now = quote(new Date().toISOString());
  const counts = await within(ms, 'Temporal', () =>
    app.client.connection.withDeadline(Date.now() + ms, () =>
      Promise.all(
        [...app.definitions.keys()].map(async (procedure) => {
          const query =
            `WorkflowType = ${quote(WORKFLOW_TYPE)} AND ExecutionStatus = 'Running' AND ` +
            `CustodiaProcedure = ${quote(procedure)} AND CustodiaDueAt < ${now}`;
          return [procedure, (await app.client.workflow.count(query)).count] as const;
        }),
      ),
    ),
  );
  overdueInstances.reset();
  for (const [procedure, n] of counts) overdueInstances.set({ procedure }, n);
}

/** The Temporal SDK's own metrics text, when it serves them (else nothing). */
async function sdkMetrics(ms: number): Promise<string> {
  const address = sdkMetricsAddress();
  if (!address) return '';
  const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(ms) });
  if (!res.ok) throw new Error(`SDK metrics at ${address} answered ${res.status}`);
  return `# Temporal SDK (worker) metrics from ${address}\n${await res.text()}`;
}

const metrics = defineRoute({
  method: 'GET',
  path: '/metrics',
  summary: "Prometheus text: Custodia's own metrics (custodia_*) and the Temporal SDK's",
  auth: 'public',
  responses: {
    200: { description: 'Prometheus text format 0.0.4', alsoAs: { 'text/plain': { type: 'string' } } },
  },
  async handle({ res }, app) {
    const ms = readyTimeoutMs();
    const report = (err: unknown): void => app.onError(err, undefined);
    const [, sdk] = await Promise.all([
      countOverdue(app, ms).catch(() => overdueInstances.reset()),
      sdkMetrics(ms).catch((err: unknown) => {
        report(err);
        return '';
      }),
    ]);
    sendText(res, 200, 'text/plain; version=0.0.4; charset=utf-8', (await METRICS.text(report)) + sdk);
  },
});

export const healthRoutes = [healthz, readyz, metrics];
