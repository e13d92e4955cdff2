/**
 * What one call into a workflow's V8 context costs with and without an execution timeout.
 *
 *   npx tsx test/bench/vm-timeout.ts [--calls 20000]
 *
 * The Temporal worker enters a workflow's context several times per activation (the activation,
 * then each round of unblocking conditions), each time through `vm.Script#runInContext` with
 * `timeout: isolateExecutionTimeout` (the SDK's default 5 s; even its debug mode sets one). Node
 * enforces a timeout with a watchdog that starts a thread of its own per call and joins it after:
 * here a trivial script with a microtask, as the SDK's call into the sandbox, in a context with
 * `microtaskMode: 'afterEvaluate'` as the SDK creates it. Not part of the tests.
 */
import { parseArgs } from 'node:util';
import vm from 'node:vm';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '20000' } } });
const CALLS = Number(values.calls);

const context = vm.createContext({}, { microtaskMode: 'afterEvaluate' });
const script = new vm.Script('globalThis.n = (globalThis.n || 0) + 1; Promise.resolve().then(() => {});');

function time(timeout: number | undefined): { wallUs: number; cpuUs: number } {
  const options = timeout === undefined ? {} : { timeout };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) script.runInContext(context, options);
  const cpu = process.cpuUsage(cpu0);
  return { wallUs: ((performance.now() - t0) * 1000) / CALLS, cpuUs: (cpu.user + cpu.system) / CALLS };
}

time(undefined);
time(5000);
const rows: [string, { wallUs: number; cpuUs: number }][] = [];
for (let round = 0; round < 2; round++) {
  rows.push(['no timeout', time(undefined)]);
  rows.push(['timeout: 5000 (the SDK default)', time(5000)]);
}
console.log(`runInContext, ${CALLS} calls each (Node ${process.version}): wall / CPU (all threads) per call`);
for (const [label, r] of rows)
  console.log(
    `  ${label.padEnd(34)} ${r.wallUs.toFixed(1).padStart(7)} µs  ${r.cpuUs.toFixed(1).padStart(7)} µs`,
  );
