/**
 * Where a process's memory is, for test/bench/memory.ts: preloaded into the worker process
 * (`node --import`), it prints one `custodia-memory-probe {json}` line on stderr at each SIGWINCH
 * (not SIGUSR2: the Temporal SDK shuts its workers down on that one):
 * the main thread's V8 heap (`process.memoryUsage()`), the V8 heap of every worker thread the
 * process started (the Temporal SDK runs the workflows in one), and the process's resident memory
 * split into anonymous and file-backed pages (`/proc/self/smaps_rollup`). What is not a V8 heap
 * of anonymous memory is native: the SDK's Rust core, Node's own allocations, malloc arenas.
 *
 * Measurement only: it records the worker threads (a subclass of `Worker` put in place of the
 * module's export, so the SDK's `new Worker(…)` goes through it) and changes nothing of what they run.
 */
import threads from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { setTimeout } from 'node:timers';

const started = [];
const Original = threads.Worker;
class RecordedWorker extends Original {
  constructor(...args) {
    super(...args);
    started.push(this);
    this.once('exit', () => started.splice(started.indexOf(this), 1));
  }
}
threads.Worker = RecordedWorker;

const MB = (n) => Math.round((n / 2 ** 20) * 10) / 10;

function smaps() {
  const out = {};
  try {
    for (const line of readFileSync('/proc/self/smaps_rollup', 'utf8').split('\n')) {
      const m = /^(\w+):\s+(\d+) kB/.exec(line);
      if (m) out[m[1]] = Math.round((Number(m[2]) / 1024) * 10) / 10;
    }
  } catch {
    // not Linux: no split
  }
  return out;
}

process.on('SIGWINCH', () => {
  void (async () => {
    const m = process.memoryUsage();
    const threadHeaps = [];
    for (const w of started) {
      try {
        // A busy thread answers when its current activation is done: not waited for beyond 10 s.
        const h = await Promise.race([
          w.getHeapStatistics(),
          new Promise((_, reject) => setTimeout(() => reject(new Error('busy')), 10_000).unref()),
        ]);
        threadHeaps.push({
          used: MB(h.used_heap_size),
          total: MB(h.total_heap_size),
          external: MB(h.external_memory),
        });
      } catch {
        threadHeaps.push(null); // exiting, or busy
      }
    }
    const s = smaps();
    const report = {
      rss: MB(m.rss),
      heapUsed: MB(m.heapUsed),
      heapTotal: MB(m.heapTotal),
      external: MB(m.external),
      arrayBuffers: MB(m.arrayBuffers),
      threads: threadHeaps,
      anonymous: s.Anonymous,
      file:
        s.Rss !== undefined && s.Anonymous !== undefined
          ? Math.round((s.Rss - s.Anonymous) * 10) / 10
          : undefined,
    };
    process.stderr.write(`custodia-memory-probe ${JSON.stringify(report)}\n`);
  })();
});
