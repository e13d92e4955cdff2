/**
 * CPU of one actor-assertion check, as the `event` validator makes it: noble's
 * `ed25519.verify` (the key decoded per call, no table for it) against `verifyWithKey`
 * (workflows/core/assertion-keys.ts: the trusted key decoded and precomputed once), and the
 * one-time cost of a key's table; and a whole `checkActorAssertion` of an assertion seen for the first
 * time against one seen before (its verification remembered: `workflows/core/assertion.ts`).
 *
 *   npx tsx test/bench/assertion-verify.ts [--n 300]
 */
import { parseArgs } from 'node:util';
import { ed25519 } from '@noble/curves/ed25519.js';
import { KEY_WINDOW, verifyWithKey } from '../../workflows/core/assertion-keys.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadActorSigner } from '../../worker/actor-keys.ts';
import { base64url, checkActorAssertion } from '../../workflows/core/assertion.ts';

const { values } = parseArgs({ options: { n: { type: 'string', default: '300' } } });
const N = Number(values.n);
const secret = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const publicKey = ed25519.getPublicKey(secret);
const id = base64url(publicKey);
const msgs = Array.from({ length: N }, (_, i) => new TextEncoder().encode(`header.claims-${i}`));
const sigs = msgs.map((m) => ed25519.sign(m, secret));

const cpuMs = (f: () => void): number => {
  const c = process.cpuUsage();
  f();
  const d = process.cpuUsage(c);
  return (d.user + d.system) / 1000;
};
const first = cpuMs(() => verifyWithKey(sigs[0]!, msgs[0]!, id, publicKey));
const per = (f: (i: number) => boolean): number =>
  cpuMs(() => {
    for (let i = 0; i < N; i++) if (!f(i)) throw new Error('did not verify');
  }) / N;
// Alternate twice, so JIT warm-up and machine load hit both alike.
const rounds: { noble: number; memo: number }[] = [];
for (let r = 0; r < 2; r++)
  rounds.push({
    noble: per((i) => ed25519.verify(sigs[i]!, msgs[i]!, publicKey, { zip215: false })),
    memo: per((i) => verifyWithKey(sigs[i]!, msgs[i]!, id, publicKey)),
  });
const last = rounds[rounds.length - 1]!;
console.log(`Ed25519 verification, CPU per call over ${N} signatures (Node ${process.version}):`);
console.log(`  ed25519.verify (key decoded per call)      ${last.noble.toFixed(2)} ms`);
console.log(`  verifyWithKey (key precomputed, W=${KEY_WINDOW})       ${last.memo.toFixed(2)} ms`);
console.log(
  `  first verifyWithKey (decode + table)       ${first.toFixed(1)} ms, once per key per V8 context`,
);
console.log(`  ratio                                      ${(last.noble / last.memo).toFixed(1)}×`);

// A whole check (parse, verify, claims) of N assertions the first time, then of the same again.
const dir = mkdtempSync(path.join(tmpdir(), 'custodia-assertion-bench-'));
try {
  const signer = loadActorSigner(path.join(dir, 'actor-key.pem'));
  const actor = { id: 'alice', roles: ['project_staff'] };
  const now = Date.now();
  const tokens = Array.from({ length: N }, (_, i) => signer.sign(actor, { workflowId: `wf-${i}`, now }));
  const check = (i: number): boolean =>
    checkActorAssertion(tokens[i], [signer.publicKey], { actor, workflowId: `wf-${i}`, now }) === undefined;
  const firstTime = per(check);
  const seenBefore = per(check);
  console.log(`  checkActorAssertion, first time            ${firstTime.toFixed(3)} ms`);
  console.log(
    `  checkActorAssertion, seen before           ${seenBefore.toFixed(3)} ms (verification remembered)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
