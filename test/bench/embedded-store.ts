/**
 * The embedded records store, PostgreSQL server (the default) beside PGlite (the former default):
 * first open of a new folder (initdb + migrations), a warm open, memory of the store, and two
 * processes appending to the audit chain at once.
 *
 *   npx tsx test/bench/embedded-store.ts [--appends 1000]
 *
 * Memory: for the server, the sum of PSS (proportional set size: shared buffers counted once) and
 * of RSS of its processes; for PGlite, the RSS of a process that only opens it, less the same
 * process without it (node + the store's modules).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../../worker/config.ts';
import { runningServerOf } from '../../worker/records/embedded-server.ts';
import { openPgliteClient } from '../../worker/records/sql.ts';
import { createRecordsStore, openStore, type RecordsStore } from '../../worker/records/store.ts';
import { tempDir } from '../temp-dir.ts';

const { values } = parseArgs({ options: { appends: { type: 'string', default: '1000' } } });
const appends = Number(values.appends);

function kb(file: string, field: string): number {
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(file, 'utf8'))?.[1] ?? 0);
}

/** PSS and RSS (MB) of the server's processes (the postmaster and its children). */
function serverMemory(postmaster: number): { processes: number; pssMb: number; rssMb: number } {
  let pss = 0;
  let rss = 0;
  let n = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1]);
      if (Number(p) !== postmaster && ppid !== postmaster) continue;
      pss += kb(`/proc/${p}/smaps_rollup`, 'Pss');
      rss += kb(`/proc/${p}/status`, 'VmRSS');
      n++;
    } catch {
      // gone meanwhile
    }
  }
  return { processes: n, pssMb: Math.round(pss / 1024), rssMb: Math.round(rss / 1024) };
}

const selfRssMb = (): number => Math.round(kb('/proc/self/status', 'VmRSS') / 1024);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const v = await fn();
  return [v, Math.round(performance.now() - t)];
}

async function load(store: RecordsStore, tag: string, n: number): Promise<void> {
  await Promise.all(
    Array.from({ length: 10 }, async (_, k) => {
      for (let i = 0; i < n / 10; i++)
        await store.appendSecurityRecord({
          kind: 'sign_in',
          subject: `user:${tag}${k}`,
          actorId: `${tag}${k}`,
          body: { i },
        });
    }),
  );
}

/** `n` appends in another process (the CLI's situation), resolved with its wall time in ms. */
function appendInChild(dataDir: string, n: number): Promise<number> {
  const code = `
    const { openStore } = await import(${JSON.stringify(path.join(REPO_ROOT, 'worker/records/store.ts'))});
    const s = await openStore({ dataDir: ${JSON.stringify(dataDir)} });
    const t = performance.now();
    await Promise.all(Array.from({ length: 10 }, async (_, k) => { for (let i = 0; i < ${n / 10}; i++)
      await s.appendSecurityRecord({ kind: 'sign_in', subject: 'user:c' + k, actorId: 'c' + k, body: { i } }); }));
    console.log(Math.round(performance.now() - t));
    await s.close();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (c) =>
      c === 0 ? resolve(Number(out.trim().split('\n').pop())) : reject(new Error(`child ${c}`)),
    );
  });
}

async function main(): Promise<void> {
  const work = tempDir('custodia-bench-store-');
  const baseline = selfRssMb();
  try {
    // The embedded PostgreSQL server.
    const dir = path.join(work, 'server');
    const [first, coldMs] = await timed(() => openStore({ dataDir: dir, embeddedRole: 'service' }));
    await first.close();
    const [store, warmMs] = await timed(() => openStore({ dataDir: dir, embeddedRole: 'service' }));
    const pid = runningServerOf(dir)!.pid;
    const idle = serverMemory(pid);
    const [, loadMs] = await timed(() => load(store, 's', appends));
    const loaded = serverMemory(pid);
    // Two processes writing: this one and a CLI-like child, at once.
    const [[childMs], bothMs] = await timed(() =>
      Promise.all([appendInChild(dir, appends), load(store, 't', appends)]),
    );
    const verify = await store.verifyAudit();
    const peak = serverMemory(pid);
    await store.close();
    console.log(
      JSON.stringify(
        {
          engine: 'embedded PostgreSQL server',
          firstOpenMs: coldMs,
          warmOpenMs: warmMs,
          serverIdle: idle,
          [`after ${appends} appends (10 connections)`]: { ms: loadMs, ...loaded },
          [`two processes × ${appends} appends at once`]: {
            ms: bothMs,
            childMs,
            chainOk: verify.ok,
            records: verify.checked,
          },
          serverPeak: peak,
        },
        null,
        1,
      ),
    );

    // PGlite (in this process).
    const pdir = path.join(work, 'pglite');
    const [p1, pColdMs] = await timed(async () => createRecordsStore(await openPgliteClient(pdir)));
    await p1.close();
    const [p2, pWarmMs] = await timed(async () => createRecordsStore(await openPgliteClient(pdir)));
    const pOpen = selfRssMb();
    const [, pLoadMs] = await timed(() => load(p2, 's', appends));
    const pLoaded = selfRssMb();
    await p2.close();
    console.log(
      JSON.stringify(
        {
          engine: 'PGlite (in process)',
          firstOpenMs: pColdMs,
          warmOpenMs: pWarmMs,
          processRssMb: { withoutStore: baseline, open: pOpen, [`after ${appends} appends`]: pLoaded },
          appendsMs: pLoadMs,
          twoProcesses: 'not possible (one process; a second opener is refused)',
        },
        null,
        1,
      ),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
