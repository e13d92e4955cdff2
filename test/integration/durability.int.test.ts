/**
 * Durability: a worker process is killed (SIGKILL) mid-procedure with timers pending; a new
 * worker process picks the instance up and it completes with its state, log and timers intact,
 * and every transition's audit record committed once.
 * And the Temporal server itself is restarted on its SQLite file with a timer pending.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectClient, REPO_ROOT } from '../../worker/config.ts';
import { loadDeployedDefinitions, runWorker } from '../../worker/process.ts';
import { startDevServer } from '../../worker/temporal/dev-server.ts';
import { testPort } from '../support/ports.ts';
import { getSnapshot, instanceResult, startProcedure } from '../../worker/instances.ts';
import { openStore } from '../../worker/records/store.ts';
import type { Client } from '@temporalio/client';
import { ENGINE_FIXTURES, sendEvent, testConfig } from './harness.ts';
import { tempDir } from '../temp-dir.ts';

const { config, address } = testConfig();
const recordsDir = tempDir('custodia-durability-');
let client: Client;

function startWorkerProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/worker-main.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      CUSTODIA_TASK_QUEUE: config.taskQueue,
      CUSTODIA_DEFINITIONS: ENGINE_FIXTURES,
      CUSTODIA_RECORDS_DIR: recordsDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('custodia worker:')) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) =>
      reject(new Error(`worker exited (${code}) before it was ready:\n${output}`)),
    );
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

beforeAll(async () => {
  client = await connectClient(config, address);
});
afterAll(async () => {
  await client?.connection.close();
  rmSync(recordsDir, { recursive: true, force: true });
});

describe('durability', () => {
  it('survives SIGKILL of the worker with timers pending', async () => {
    const def = loadDeployedDefinitions([ENGINE_FIXTURES]).get('engine_review')!;
    const first = await startWorkerProcess();
    const id = await startProcedure(client, def, {
      context: { client: 'acme' },
      starter: { id: 'alice', roles: ['project_staff'] },
      taskQueue: config.taskQueue,
    });
    const alice = { id: 'alice', roles: ['project_staff'] };
    await sendEvent(client, id, { type: 'SUBMIT', actor: alice, data: { purpose: 'durable' } });
    const before = await getSnapshot(client, id);
    expect(before.timers.map((t) => t.event).sort()).toHaveLength(2);
    await killed(first);

    // No worker for a moment; then a fresh process takes over from history alone.
    await new Promise((r) => setTimeout(r, 1_000));
    const second = await startWorkerProcess();
    try {
      const result = await instanceResult(client, id);
      expect(result.leaves).toEqual(['expired']);
      expect(result.context).toMatchObject({ client: 'acme', reminders: 1 });
      expect(result.log.map((l) => l.event)).toEqual(['$start', 'SUBMIT', 'after PT2S', 'after PT4S']);
      // The expiry came from the timers armed before the kill, re-armed after the reminder.
      const submitted = Date.parse(result.log[1]!.at);
      expect(Date.parse(result.log[3]!.at) - submitted).toBeGreaterThanOrEqual(6_000);
    } finally {
      await killed(second);
    }
    // Every transition acknowledged or fired around the kill has its audit record, exactly once.
    const store = await openStore({ dataDir: recordsDir });
    try {
      const audit = await store.auditOf(id);
      expect(audit.map((r) => [r.seq, r.body.event])).toEqual([
        [0, '$start'],
        [1, 'SUBMIT'],
        [2, 'after PT2S'],
        [3, 'after PT4S'],
      ]);
    } finally {
      await store.close();
    }
  });

  it('survives a restart of the Temporal server (SQLite file) with a timer pending', async () => {
    // Its own dev server: this one is stopped and started again on the same database file.
    const dbFile = path.join(recordsDir, 'restart.db');
    const port = await testPort();
    const own = () =>
      startDevServer(config, { dbFile, port, uiPort: null, binary: inject('temporalBinary') ?? undefined });
    let server = await own();
    const ownConfig = { ...config, address: server.address };
    const def = loadDeployedDefinitions([ENGINE_FIXTURES]).get('engine_review')!;
    const alice = { id: 'alice', roles: ['project_staff'] };
    let running = await runWorker(ownConfig, {
      address: server.address,
      records: null,
      definitions: new Map([[def.ir.id, def]]),
    });
    const id = await startProcedure(running.client, def, {
      context: { client: 'acme' },
      starter: alice,
      taskQueue: config.taskQueue,
    });
    await sendEvent(running.client, id, { type: 'SUBMIT', actor: alice, data: { purpose: 'restart' } });
    await running.shutdown();
    await server.stop();

    server = await own();
    running = await runWorker(ownConfig, {
      address: server.address,
      records: null,
      definitions: new Map([[def.ir.id, def]]),
    });
    try {
      const result = await instanceResult(running.client, id);
      expect(result.leaves).toEqual(['expired']);
      expect(result.log.map((l) => l.event)).toEqual(['$start', 'SUBMIT', 'after PT2S', 'after PT4S']);
    } finally {
      await running.shutdown();
      await server.stop();
    }
  });
});
