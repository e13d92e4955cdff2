/**
 * `writeFileAtomic` (worker/atomic-write.ts): another process reading the file while it is replaced
 * again and again always reads a whole JSON document — with `writeFileSync` it read empty or partial
 * files (`npm run cluster`'s `cluster.json`, read by the chaos test while a process restarted).
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../worker/atomic-write.ts';
import { tempDir } from '../temp-dir.ts';

const dir = tempDir('custodia-atomic-write-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A reader in another process: parses the file until told to stop, then prints reads and failures. */
const READER = `
const { readFileSync } = require('node:fs');
const file = process.argv[1];
let reads = 0, torn = 0, stop = false;
process.stdin.on('data', () => { stop = true; });
const loop = () => {
  for (let i = 0; i < 200; i++) {
    try { JSON.parse(readFileSync(file, 'utf8')); reads++; } catch { torn++; }
  }
  if (stop) process.stdout.write(JSON.stringify({ reads, torn }));
  else setImmediate(loop);
};
loop();
`;

describe('writeFileAtomic', () => {
  it('never lets a reader in another process see a partial file', async () => {
    const file = path.join(dir, 'state.json');
    const doc = (k: number) =>
      `${JSON.stringify({ k, workers: Array.from({ length: 200 }, (_, i) => ({ i, pid: k + i })) }, null, 2)}\n`;
    writeFileAtomic(file, doc(0));
    const reader = spawn(process.execPath, ['-e', READER, file], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    reader.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise<void>((resolve) => reader.on('close', () => resolve()));
    // Replace it for a second while the reader reads (yielding now and then so it can start).
    const end = Date.now() + 1000;
    for (let k = 1; Date.now() < end; k++) {
      writeFileAtomic(file, doc(k));
      if (k % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    reader.stdin.end('stop');
    await done;
    const { reads, torn } = JSON.parse(out) as { reads: number; torn: number };
    expect(reads).toBeGreaterThan(100);
    expect(torn).toBe(0);
  });
});
