/**
 * `npm run cluster`'s checks that need nothing installed: the port layout of the Temporal server
 * and the one-line errors for ports it cannot use (before any build, PostgreSQL or process start).
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ClusterSetupError,
  FETCHED_GO_VERSION,
  fetchedGoDir,
  findGo,
} from '../../worker/cluster/binaries.ts';
import { startCluster } from '../../worker/cluster/cluster.ts';
import { busyPorts, portsFrom } from '../../worker/cluster/temporal-server.ts';

describe('cluster', () => {
  it('builds with the Go toolchain the prerequisites fetched, before an older Go on PATH', () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'custodia-go-'));
    const oldGoDir = path.join(cache, 'old-go-bin');
    mkdirSync(oldGoDir);
    writeFileSync(path.join(oldGoDir, 'go'), '#!/bin/sh\n');
    chmodSync(path.join(oldGoDir, 'go'), 0o755);
    const env = { XDG_CACHE_HOME: cache, PATH: oldGoDir };
    expect(findGo(env)).toBe(path.join(oldGoDir, 'go'));
    const fetched = path.join(fetchedGoDir(env), 'bin');
    mkdirSync(fetched, { recursive: true });
    writeFileSync(path.join(fetched, 'go'), '#!/bin/sh\n');
    expect(findGo(env)).toBe(path.join(fetched, 'go'));
    // One version in both homes: the shell script that fetches it and the build that uses it.
    const script = readFileSync('bin/test-prerequisites.sh', 'utf8');
    expect(script).toContain(`go_toolchain_version=${FETCHED_GO_VERSION}`);
    expect(fetchedGoDir(env)).toBe(path.join(cache, 'custodia', `go-${FETCHED_GO_VERSION}`));
  });

  it('lays the services out like the stock configuration, moved with the frontend port', () => {
    expect(portsFrom(7233)).toEqual({
      frontend: 7233,
      frontendHttp: 7243,
      history: 7234,
      matching: 7235,
      worker: 7239,
      frontendMembership: 6933,
      historyMembership: 6934,
      matchingMembership: 6935,
      workerMembership: 6939,
      metrics: 8000,
    });
    expect(portsFrom(17233).history).toBe(17234);
  });

  it('refuses a frontend port whose membership ports do not fit the server (smallint)', async () => {
    const err = await startCluster({ dataDir: '/nonexistent', temporalPort: 40_000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClusterSetupError);
    expect((err as Error).message).toMatch(/--temporal-port 40000 .* between 1324 and 32067/);
  });

  it('names the busy port and how to move the cluster', async () => {
    // Hold the history port (frontend + 1) of a layout in the usable range, below the bands of the
    // test ports (from 20,000: `test/support/ports.ts`), which other lanes may hold meanwhile.
    const server = net.createServer();
    let frontend = 0;
    for (let i = 0; i < 20 && !frontend; i++) {
      const candidate = 10_000 + Math.floor(Math.random() * 9_000);
      // The rest of the layout free too (the cluster project's server may run meanwhile).
      if ((await busyPorts(portsFrom(candidate))).length) continue;
      frontend = await new Promise<number>((resolve) => {
        server.once('error', () => resolve(0));
        server.listen(candidate + 1, '127.0.0.1', () => resolve(candidate));
      });
    }
    expect(frontend).toBeGreaterThan(0);
    try {
      const err = await startCluster({ dataDir: '/nonexistent', temporalPort: frontend }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ClusterSetupError);
      expect((err as Error).message).toContain(`ports ${frontend + 1} on 127.0.0.1 are in use`);
      expect((err as Error).message).toContain('--temporal-port');
    } finally {
      server.close();
    }
  });
});
