import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { portFree } from '../../worker/cluster/temporal-server.ts';
import { PORT_BAND_SIZE, PORT_BANDS_START, portBand, portBandStart, testPort } from '../support/ports.ts';

const held: Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

function hold(port: number): Promise<void> {
  const s = createServer();
  held.push(s);
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve());
  });
}

describe('test ports', () => {
  it('come from this lane’s band, below the range the kernel hands out for port 0 and outgoing connections', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    const base = portBandStart();
    for (let i = 0; i < 5; i++) {
      const port = await testPort();
      expect(port).toBeGreaterThanOrEqual(base);
      expect(port).toBeLessThan(base + PORT_BAND_SIZE);
      expect(port).toBeLessThan(low!);
    }
  });

  it('are not handed out twice, and a port something listens on is passed over', async () => {
    const first = await testPort();
    // Hold the next few candidates: none of them may come back.
    const base = portBandStart();
    const busy = [1, 2, 3].map((k) => base + ((first - base + k) % PORT_BAND_SIZE));
    for (const p of busy) await hold(p);
    for (const p of busy) expect(await portFree(p)).toBe(false);
    const next = await testPort();
    expect(busy).not.toContain(next);
    expect(next).not.toBe(first);
    expect(await portFree(next)).toBe(true);
  });

  it('each lane has a band of its own, and the main process band 0', () => {
    expect(portBand({})).toBe(0);
    expect(portBand({ VITEST_POOL_ID: '1' })).toBe(1);
    expect(portBand({ VITEST_POOL_ID: '2' })).toBe(2);
    expect(portBand({ VITEST_POOL_ID: 'x' })).toBe(0);
    // However many lanes, none shares band 0, and the bands stay below the ephemeral range.
    for (let lane = 1; lane <= 64; lane++) {
      const band = portBand({ VITEST_POOL_ID: String(lane) });
      expect(band).toBeGreaterThan(0);
      expect(PORT_BANDS_START + (band + 1) * PORT_BAND_SIZE).toBeLessThanOrEqual(32_768);
    }
  });
});
