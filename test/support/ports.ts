/**
 * Ports for the servers a test starts on a port it must name before the server listens: an
 * identity provider's redirect URI, another process's command line, a server restarted at the same
 * address.
 *
 * Asking the kernel (listen on port 0, close, hand the number on) races: until the server binds
 * it, the kernel may give that port to any other `listen(0)` or outgoing connection on the machine
 * — it hands both out from its ephemeral range (32768–60999 on Linux). A CI run lost to exactly
 * that: another lane's server took the OIDC test's API port between the probe and the listen.
 *
 * The ports here come from below that range, from a band of the calling test process's own (its
 * lane, `VITEST_POOL_ID`; the main process, which runs the global setups, has band 0), starting at
 * an offset taken from the process id, so a later file on the same lane does not start where the
 * last one did. Each is checked free by binding it; one in use is passed over. So nothing the
 * kernel hands out can take one, nor another lane; only a server started outside the test run
 * could, on a port it chose itself.
 */
import { portFree } from '../../worker/cluster/temporal-server.ts';

/** Lowest port of band 0; the bands end below the kernel's ephemeral range. */
export const PORT_BANDS_START = 20_000;
/** Ports in each band. */
export const PORT_BAND_SIZE = 500;
const BANDS = Math.floor((32_768 - PORT_BANDS_START) / PORT_BAND_SIZE);

/** The band of a process: its lane (`VITEST_POOL_ID`), or 0 outside a test worker. */
export function portBand(env: NodeJS.ProcessEnv = process.env): number {
  const lane = Number(env.VITEST_POOL_ID);
  return Number.isInteger(lane) && lane > 0 ? 1 + ((lane - 1) % (BANDS - 1)) : 0;
}

/** The lowest port of this process's band. */
export function portBandStart(): number {
  return PORT_BANDS_START + portBand() * PORT_BAND_SIZE;
}

let next = (process.pid * 7) % PORT_BAND_SIZE;

/**
 * A port of this process's band that is free now and that this process has not handed out before
 * (until it has gone round its band).
 */
export async function testPort(host = '127.0.0.1'): Promise<number> {
  const base = portBandStart();
  for (let tried = 0; tried < PORT_BAND_SIZE; tried++) {
    const port = base + next;
    next = (next + 1) % PORT_BAND_SIZE;
    if (await portFree(port, host)) return port;
  }
  throw new Error(`no free port in ${base}–${base + PORT_BAND_SIZE - 1} on ${host}`);
}
