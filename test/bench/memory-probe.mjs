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
import v8 from 'node:v8';

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

/**
 * The process's anonymous resident memory by kind of mapping (`/proc/self/smaps`), in MB:
 * `brk` the main malloc arena (`[heap]`); `arenas` glibc's other malloc arenas (a read-write
 * mapping at a 64 MB boundary followed by its reserved rest, 64 MB in all); `stacks` thread
 * stacks (`[stack]`, and read-write mappings right after a one-page guard); `other` the rest of
 * the anonymous mappings (V8's heap pages, the Rust core's large allocations, mmap'd buffers).
 */
function mappings() {
  const out = { brk: 0, arenas: 0, arenaCount: 0, stacks: 0, other: 0 };
  let text;
  try {
    text = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return undefined;
  }
  const maps = [];
  let cur;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      cur = {
        start: BigInt(`0x${head[1]}`),
        end: BigInt(`0x${head[2]}`),
        perms: head[3],
        inode: head[4],
        name: head[5] ?? '',
        rss: 0,
        anon: 0,
      };
      maps.push(cur);
      continue;
    }
    const m = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (m && cur) cur[m[1] === 'Rss' ? 'rss' : 'anon'] = Number(m[2]);
  }
  const ARENA = 64n << 20n;
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i];
    if (m.anon === 0) continue;
    const prev = maps[i - 1];
    const next = maps[i + 1];
    if (m.name === '[heap]') out.brk += m.anon;
    else if (m.name === '[stack]') out.stacks += m.anon;
    else if (
      m.start % ARENA === 0n &&
      m.perms === 'rw-p' &&
      (m.end - m.start === ARENA ||
        (next && next.perms === '---p' && next.start === m.end && next.end - m.start === ARENA))
    ) {
      out.arenas += m.anon;
      out.arenaCount += 1;
    } else if (
      prev &&
      prev.perms === '---p' &&
      prev.end === m.start &&
      prev.end - prev.start === 4096n &&
      m.perms === 'rw-p'
    )
      out.stacks += m.anon;
    else out.other += m.anon;
  }
  for (const k of ['brk', 'arenas', 'stacks', 'other']) out[k] = Math.round((out[k] / 1024) * 10) / 10;
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
          physical: MB(h.total_physical_size),
          malloced: MB(h.malloced_memory),
          external: MB(h.external_memory),
        });
      } catch {
        threadHeaps.push(null); // exiting, or busy
      }
    }
    const s = smaps();
    const h = v8.getHeapStatistics();
    const report = {
      rss: MB(m.rss),
      heapUsed: MB(m.heapUsed),
      heapTotal: MB(m.heapTotal),
      heapPhysical: MB(h.total_physical_size),
      heapMalloced: MB(h.malloced_memory),
      external: MB(m.external),
      arrayBuffers: MB(m.arrayBuffers),
      threads: threadHeaps,
      anonymous: s.Anonymous,
      file:
        s.Rss !== undefined && s.Anonymous !== undefined
          ? Math.round((s.Rss - s.Anonymous) * 10) / 10
          : undefined,
      mappings: mappings(),
    };
    process.stderr.write(`custodia-memory-probe ${JSON.stringify(report)}\n`);
  })();
});
