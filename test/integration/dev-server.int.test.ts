import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectClient, loadConfig } from '../../worker/config.ts';
import { ensureSearchAttributes, startDevServer } from '../../worker/temporal/dev-server.ts';
import { testPort } from '../support/ports.ts';
import { indexedValueTypeName, SEARCH_ATTRIBUTES } from '../../worker/temporal/search-attributes.ts';
import { laneTemporalAddress } from './harness.ts';

const address = laneTemporalAddress();
const namespace = inject('temporalNamespace');

describe("the Temporal server of this test file's lane", () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await Connection.connect({ address });
  });
  afterAll(async () => {
    await connection.close();
  });

  it('is reachable and serves the namespace', async () => {
    const res = await connection.workflowService.describeNamespace({ namespace });
    expect(res.namespaceInfo?.name).toBe(namespace);
  });

  it('has all 8 Custodia search attributes with the contract types', async () => {
    const res = await connection.operatorService.listSearchAttributes({ namespace });
    const custom = Object.fromEntries(
      Object.entries(res.customAttributes ?? {}).map(([name, type]) => [name, indexedValueTypeName(type)]),
    );
    expect(custom).toMatchObject({
      CustodiaProcedure: 'Keyword',
      CustodiaVersion: 'Keyword',
      CustodiaClient: 'Keyword',
      CustodiaState: 'KeywordList',
      CustodiaAwaiting: 'KeywordList',
      CustodiaStateSince: 'Datetime',
      CustodiaDueAt: 'Datetime',
      CustodiaAssignee: 'KeywordList',
      CustodiaEscalation: 'Int',
    });
    expect(Object.keys(SEARCH_ATTRIBUTES)).toHaveLength(9);
  });

  it('is what loadConfig / connectClient see in this process and in child processes', async () => {
    expect(process.env.TEMPORAL_ADDRESS).toBe(address);
    const config = loadConfig();
    expect(config.address).toBe(address);
    const client = await connectClient(config);
    try {
      const info = await client.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
    } finally {
      await client.connection.close();
    }
    const child = execFileSync(
      process.execPath,
      ['-e', 'process.stdout.write(process.env.TEMPORAL_ADDRESS ?? "")'],
      {
        encoding: 'utf8',
      },
    );
    expect(child).toBe(address);
  });

  it('ensureSearchAttributes is idempotent: nothing to create the second time', async () => {
    const result = await ensureSearchAttributes(address, namespace);
    expect(result.created).toEqual([]);
    expect([...result.existing].sort()).toEqual(Object.keys(SEARCH_ATTRIBUTES).sort());
  });
});

describe('startDevServer', () => {
  // With an external cluster (TEMPORAL_ADDRESS) there is no local port to collide with.
  it.skipIf(!inject('temporalDevServer'))('refuses a port that is taken, naming it', async () => {
    const port = Number(address.split(':').pop());
    await expect(startDevServer(loadConfig(), { dbFile: null, port, uiPort: null })).rejects.toThrow(
      new RegExp(`port ${port} .*already in use`),
    );
  });

  const binary = inject('temporalBinary');
  it.skipIf(!binary)(
    'a port picked for `0` that something takes before the server binds it: picks another, and gives up after three',
    async () => {
      if (!binary) return;
      // Another program wins the race for each of the first picks: it listens on them.
      const taken = [await testPort(), await testPort(), await testPort()];
      const holders = await Promise.all(
        taken.map(
          (p) =>
            new Promise<NetServer>((resolve, reject) => {
              const h = createNetServer();
              h.once('error', reject);
              h.listen(p, '127.0.0.1', () => resolve(h));
            }),
        ),
      );
      try {
        const lines: string[] = [];
        const picks = [taken[0]!, await testPort()];
        const server = await startDevServer(loadConfig({ env: {} }), {
          binary,
          dbFile: null,
          port: 0,
          uiPort: null,
          pickPort: () => Promise.resolve(picks.shift()!),
          log: (l) => lines.push(l),
        });
        try {
          expect(server.port).not.toBe(taken[0]);
          expect(lines.join('\n')).toMatch(new RegExp(`Port ${taken[0]} was taken .*picking another`));
          const info = await ensureSearchAttributes(server.address, 'default');
          expect(info.created).toEqual([]);
        } finally {
          await server.stop();
        }
        // Every pick taken: the third refusal is the error, naming the last port.
        const again = [...taken];
        await expect(
          startDevServer(loadConfig({ env: {} }), {
            binary,
            dbFile: null,
            port: 0,
            uiPort: null,
            pickPort: () => Promise.resolve(again.shift()!),
          }),
        ).rejects.toThrow(new RegExp(`port ${taken[2]} .*already in use`));
        expect(again).toEqual([]);
      } finally {
        await Promise.all(holders.map((h) => new Promise((r) => h.close(r))));
      }
    },
  );

  it.skipIf(!binary)(
    'registers the search attributes on an existing database whose namespace lacks them',
    async () => {
      if (!binary) return;
      const dir = mkdtempSync(path.join(tmpdir(), 'custodia-devserver-'));
      const dbFile = path.join(dir, 'temporal.db');
      try {
        // Create the database with a plain server: `default` exists, without our attributes.
        const port = await testPort();
        const plain = spawn(
          binary,
          [
            'server',
            'start-dev',
            '--headless',
            '--ip',
            '127.0.0.1',
            '--port',
            String(port),
            '--db-filename',
            dbFile,
          ],
          { stdio: 'ignore' },
        );
        try {
          await waitFor(async () => {
            const c = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 1000 });
            try {
              await c.workflowService.describeNamespace({ namespace: 'default' });
            } finally {
              await c.close();
            }
          });
        } finally {
          if (plain.exitCode === null && plain.signalCode === null) {
            plain.kill('SIGTERM');
            await new Promise((resolve) => plain.once('exit', resolve));
          }
        }

        const config = loadConfig({ env: {} });
        const server = await startDevServer(config, { binary, dbFile, port: 0, uiPort: null });
        try {
          expect([...server.searchAttributes.created].sort()).toEqual(Object.keys(SEARCH_ATTRIBUTES).sort());
          const again = await ensureSearchAttributes(server.address, 'default');
          expect(again.created).toEqual([]);
        } finally {
          await server.stop();
        }
        expect(server.process.exitCode !== null || server.process.signalCode !== null).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

async function waitFor(fn: () => Promise<void>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fn();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
