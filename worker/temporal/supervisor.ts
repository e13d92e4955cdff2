/**
 * `npm start`'s dev server, supervised: when `temporal server start-dev` exits without being
 * asked to, it is started again on the same SQLite file and the same ports, after a back-off of
 * 1 s, 2 s, 4 s … at most 30 s (back to 1 s once a server has stayed up for a minute), with one log
 * line per restart. The worker's and the API's Temporal connections reconnect on their own.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CustodiaConfig } from '../config.ts';
import { log } from '../log.ts';
import { devServerRestarts } from '../metrics.ts';
import { startDevServer, type DevServer, type DevServerOptions } from './dev-server.ts';

export interface SupervisedDevServer {
  /** `host:port` of the gRPC frontend (the same across restarts). */
  readonly address: string;
  readonly uiUrl: string | null;
  /** The running server process's pid (undefined while it is being restarted). */
  readonly pid: number | undefined;
  /** How many times the server was restarted. */
  readonly restarts: number;
  /** Stop supervising and stop the server. */
  stop(): Promise<void>;
}

/** Back-off before restart number `n` (1-based): 1 s, 2 s, 4 s … capped at `maxMs`. */
export function restartDelayMs(n: number, baseMs = 1_000, maxMs = 30_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, n - 1));
}

/** A server that stayed up this long resets the back-off. */
const STABLE_MS = 60_000;

/** Start the dev server and keep it running until `stop()`. */
export async function superviseDevServer(
  config: CustodiaConfig,
  opts: DevServerOptions & { baseDelayMs?: number; maxDelayMs?: number } = {},
): Promise<SupervisedDevServer> {
  let current: DevServer | undefined = await startDevServer(config, opts);
  const first = current;
  // Same file, same ports: clients keep their address.
  const again: DevServerOptions = { ...opts, port: first.port, uiPort: first.uiPort };
  let stopping = false;
  let restarts = 0;
  const wake = new AbortController();

  const loop = async (): Promise<void> => {
    let failures = 0;
    while (!stopping && current) {
      const upSince = Date.now();
      const { code, signal } = await current.exited;
      current = undefined;
      if (stopping) return;
      if (Date.now() - upSince >= STABLE_MS) failures = 0;
      for (;;) {
        const delay = restartDelayMs(++failures, opts.baseDelayMs, opts.maxDelayMs);
        log().warn(
          `Temporal dev server exited (code ${String(code)}, signal ${String(signal)}); ` +
            `restarting it on the same data in ${delay / 1000} s (restart ${restarts + 1})`,
          { event: 'dev_server_restart', delayMs: delay },
        );
        try {
          await sleep(delay, undefined, { signal: wake.signal });
        } catch {
          return; // stop() during the back-off
        }
        try {
          current = await startDevServer(config, again);
          restarts++;
          devServerRestarts.inc();
          break;
        } catch (err) {
          if (stopping) return;
          log().error(
            `Temporal dev server did not start: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      }
    }
  };
  const supervising = loop();

  return {
    address: first.address,
    uiUrl: first.uiUrl,
    get pid() {
      return current?.process.pid;
    },
    get restarts() {
      return restarts;
    },
    async stop() {
      stopping = true;
      wake.abort();
      await current?.stop();
      await supervising;
      await current?.stop();
    },
  };
}
