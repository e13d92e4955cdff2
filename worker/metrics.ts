/**
 * Custodia's own metrics, in the Prometheus text format (0.0.4), served by `GET /metrics`. A small
 * registry — counters, gauges, histograms with fixed buckets, label values escaped — so no
 * dependency is needed. One registry per process (`METRICS`): with `npm start` the worker's
 * activities and the API share it; separate processes each serve their own (see docs/metrics.md).
 */
import { createServer } from 'node:http';

/** Label values by label name. */
export type Labels = Readonly<Record<string, string>>;

/** Escape a label value: backslash, double quote and line feed (the format's three escapes). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Escape HELP text: backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function labelText(names: readonly string[], values: readonly string[], extra = ''): string {
  const parts = names.map((n, i) => `${n}="${escapeLabelValue(values[i] ?? '')}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(',')}}` : '';
}

abstract class Metric {
  /** Series by their label values joined with a separator no value holds after keying. */
  protected readonly series = new Map<string, { values: string[] }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (!NAME.test(name)) throw new Error(`metric name "${name}" is not a Prometheus name`);
    for (const l of labelNames)
      if (!LABEL.test(l) || l.startsWith('__') || l === 'le')
        throw new Error(`label name "${l}" of ${name} is not allowed`);
  }

  abstract readonly type: 'counter' | 'gauge' | 'histogram';

  protected valuesOf(labels: Labels): string[] {
    const keys = Object.keys(labels);
    const unknown = keys.filter((k) => !this.labelNames.includes(k));
    if (unknown.length || keys.length !== this.labelNames.length)
      throw new Error(`${this.name} takes labels ${this.labelNames.join(', ') || 'none'}`);
    return this.labelNames.map((n) => labels[n] ?? '');
  }

  protected keyOf(values: readonly string[]): string {
    return JSON.stringify(values);
  }

  /** The `# HELP` and `# TYPE` lines and every series. */
  text(): string {
    return [
      `# HELP ${this.name} ${escapeHelp(this.help)}`,
      `# TYPE ${this.name} ${this.type}`,
      ...this.lines(),
    ].join('\n');
  }

  protected abstract lines(): string[];

  /** Forget every series (tests). */
  reset(): void {
    this.series.clear();
  }
}

/** A value per label set that only goes up. */
export class Counter extends Metric {
  readonly type = 'counter';
  private readonly counts = new Map<string, number>();

  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name}: a counter only goes up (got ${by})`);
    const values = this.valuesOf(labels);
    const key = this.keyOf(values);
    if (!this.series.has(key)) this.series.set(key, { values });
    this.counts.set(key, (this.counts.get(key) ?? 0) + by);
  }

  /** The current value (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.counts.get(this.keyOf(this.valuesOf(labels))) ?? 0;
  }

  protected lines(): string[] {
    return [...this.series].map(
      ([key, s]) =>
        `${this.name}${labelText(this.labelNames, s.values)} ${formatNumber(this.counts.get(key) ?? 0)}`,
    );
  }

  override reset(): void {
    super.reset();
    this.counts.clear();
  }
}

/** A value per label set that is set (or computed when scraped, by a collector). */
export class Gauge extends Metric {
  readonly type = 'gauge';
  private readonly values = new Map<string, number>();

  set(labels: Labels, value: number): void {
    const values = this.valuesOf(labels);
    const key = this.keyOf(values);
    if (!this.series.has(key)) this.series.set(key, { values });
    this.values.set(key, value);
  }

  protected lines(): string[] {
    return [...this.series].map(
      ([key, s]) =>
        `${this.name}${labelText(this.labelNames, s.values)} ${formatNumber(this.values.get(key) ?? 0)}`,
    );
  }

  override reset(): void {
    super.reset();
    this.values.clear();
  }
}

/** Observations counted into fixed cumulative buckets (upper bounds, seconds for durations). */
export class Histogram extends Metric {
  readonly type = 'histogram';
  private readonly data = new Map<string, { buckets: number[]; sum: number; count: number }>();

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
    if (!buckets.length || buckets.some((b, i) => i > 0 && b <= buckets[i - 1]!))
      throw new Error(`${name}: buckets must be increasing`);
  }

  observe(labels: Labels, value: number): void {
    const values = this.valuesOf(labels);
    const key = this.keyOf(values);
    let d = this.data.get(key);
    if (!d) {
      this.series.set(key, { values });
      this.data.set(key, (d = { buckets: this.buckets.map(() => 0), sum: 0, count: 0 }));
    }
    this.buckets.forEach((b, i) => {
      if (value <= b) d.buckets[i]!++;
    });
    d.sum += value;
    d.count++;
  }

  /** Time `fn` and observe its duration in seconds (also when it throws). */
  async time<T>(labels: Labels, fn: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    try {
      return await fn();
    } finally {
      this.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    }
  }

  /** How many observations a label set has (0 when none). */
  count(labels: Labels = {}): number {
    return this.data.get(this.keyOf(this.valuesOf(labels)))?.count ?? 0;
  }

  protected lines(): string[] {
    const out: string[] = [];
    for (const [key, s] of this.series) {
      const d = this.data.get(key)!;
      this.buckets.forEach((b, i) =>
        out.push(
          `${this.name}_bucket${labelText(this.labelNames, s.values, `le="${formatNumber(b)}"`)} ${d.buckets[i]}`,
        ),
      );
      out.push(`${this.name}_bucket${labelText(this.labelNames, s.values, 'le="+Inf"')} ${d.count}`);
      out.push(`${this.name}_sum${labelText(this.labelNames, s.values)} ${formatNumber(d.sum)}`);
      out.push(`${this.name}_count${labelText(this.labelNames, s.values)} ${d.count}`);
    }
    return out;
  }

  override reset(): void {
    super.reset();
    this.data.clear();
  }
}

/** Something computed when scraped (e.g. a gauge from a query); it may fail or time out. */
export type Collector = () => Promise<void>;

/** Metrics by name, rendered together. */
export class Registry {
  private readonly metrics = new Map<string, Metric>();
  private readonly collectors: Collector[] = [];

  private add<M extends Metric>(metric: M): M {
    if (this.metrics.has(metric.name)) throw new Error(`metric ${metric.name} is registered twice`);
    this.metrics.set(metric.name, metric);
    return metric;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames));
  }

  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets));
  }

  /** Run `collector` before each rendering (its failures are reported, never thrown). */
  collect(collector: Collector): () => void {
    this.collectors.push(collector);
    return () => {
      const i = this.collectors.indexOf(collector);
      if (i >= 0) this.collectors.splice(i, 1);
    };
  }

  /** The text exposition of every metric (after running the collectors). */
  async text(onError: (err: unknown) => void = () => {}): Promise<string> {
    await Promise.all(this.collectors.map((c) => c().catch(onError)));
    return [...this.metrics.values()].map((m) => m.text()).join('\n') + '\n';
  }

  /** Forget every series (tests). */
  reset(): void {
    for (const m of this.metrics.values()) m.reset();
  }
}

/** Latency buckets in seconds: 1 ms … 10 s. */
export const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

/** This process's registry and Custodia's metrics in it. */
export const METRICS = new Registry();

export const transitions = METRICS.counter(
  'custodia_transitions_total',
  'Accepted transitions committed by this process (audit record written), by procedure and event',
  ['procedure', 'event'],
);
export const refusals = METRICS.counter(
  'custodia_refusals_total',
  'Events the engine refused, by rejection code (counted where the API records the refusal)',
  ['code'],
);
export const overdueInstances = METRICS.gauge(
  'custodia_sla_overdue_instances',
  'Running instances past the SLA deadline of their current state (CustodiaDueAt < now), by procedure',
  ['procedure'],
);
export const auditAppendSeconds = METRICS.histogram(
  'custodia_audit_append_seconds',
  'Time to write one transition (audit record and effect rows) to the records store',
  [],
  LATENCY_BUCKETS,
);
export const auditCommitBatch = METRICS.histogram(
  'custodia_audit_commit_batch_size',
  'Transitions written per records-store transaction (group commit: 1 when the store was idle)',
  [],
  [1, 2, 4, 8, 16, 32, 64],
);
export const httpRequestSeconds = METRICS.histogram(
  'custodia_http_request_duration_seconds',
  'HTTP API request latency, by method, declared route pattern and status',
  ['method', 'route', 'status'],
  LATENCY_BUCKETS,
);
export const devServerRestarts = METRICS.counter(
  'custodia_temporal_dev_server_restarts_total',
  'Times the supervised Temporal dev server was restarted after it exited',
);
export const workerRestarts = METRICS.counter(
  'custodia_worker_restarts_total',
  'Times the Temporal worker was recreated in this process after it failed',
);

/**
 * Serve this registry alone (`GET /metrics`, `GET /healthz`) on `port` — for a worker-only process,
 * which has no API. Resolves with the URL; `close()` stops it.
 */
export async function serveMetrics(
  port: number,
  host = '127.0.0.1',
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics')
      void METRICS.text().then((text) => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(text);
      });
    else if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end('{"status":"ok"}');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address();
  const url = `http://${host}:${a && typeof a === 'object' ? a.port : port}`;
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
