/**
 * The memoised Ed25519 verification of actor assertions (`workflows/core/assertion-keys.ts`)
 * answers exactly as noble's strict `ed25519.verify(…, { zip215: false })` on valid signatures,
 * tampered ones, malleable `s`, non-canonical and small-order points, and keys beyond the memo.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { MAX_KEYS, verifyWithKey } from '../../workflows/core/assertion-keys.ts';
import { base64url } from '../../workflows/core/assertion.ts';

const L = ed25519.Point.Fn.ORDER;
const seed = (n: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => (n * 31 + i * 7) & 255);
const keypair = (n: number) => {
  const secret = seed(n);
  const publicKey = ed25519.getPublicKey(secret);
  return { secret, publicKey, id: base64url(publicKey) };
};
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const strict = (sig: Uint8Array, msg: Uint8Array, key: Uint8Array): boolean => {
  try {
    return ed25519.verify(sig, msg, key, { zip215: false });
  } catch {
    return false;
  }
};
const le = (n: bigint): Uint8Array =>
  Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 255n));
const numberLE = (b: Uint8Array): bigint => b.reduceRight((n, x) => (n << 8n) | BigInt(x), 0n);

/** Both verifiers' answers, which must agree; returns the common answer. */
function both(sig: Uint8Array, msg: Uint8Array, id: string, key: Uint8Array): boolean {
  const ours = verifyWithKey(sig, msg, id, key);
  expect(ours).toBe(strict(sig, msg, key));
  return ours;
}

describe('assertion-keys: Ed25519 with a precomputed key', () => {
  const k = keypair(1);

  it('accepts valid signatures, the same answer as noble, again and again (memo hit)', () => {
    for (let i = 0; i < 20; i++) {
      const msg = text(`header.claims ${i}`);
      expect(both(ed25519.sign(msg, k.secret), msg, k.id, k.publicKey)).toBe(true);
    }
  });

  it('refuses every single-bit change of R, s or the message', () => {
    const msg = text('eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhbGljZSJ9');
    const sig = ed25519.sign(msg, k.secret);
    for (let bit = 0; bit < 512; bit += 7) {
      const bad = sig.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(both(bad, msg, k.id, k.publicKey)).toBe(false);
    }
    for (let bit = 0; bit < msg.length * 8; bit += 13) {
      const bad = msg.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(both(sig, bad, k.id, k.publicKey)).toBe(false);
    }
  });

  it('refuses a malleable s (s + L) and an s that is not reduced', () => {
    const msg = text('malleable');
    const sig = ed25519.sign(msg, k.secret);
    const s = numberLE(sig.subarray(32));
    for (const t of [s + L, L, 2n ** 256n - 1n]) {
      if (t >= 2n ** 256n) continue;
      const bad = sig.slice();
      bad.set(le(t), 32);
      expect(both(bad, msg, k.id, k.publicKey)).toBe(false);
    }
  });

  it('refuses non-canonical and small-order R, and small-order or undecodable keys', () => {
    const msg = text('points');
    const sig = ed25519.sign(msg, k.secret);
    const P = 2n ** 255n - 19n;
    const identity = le(1n); // y = 1: the neutral point, of small order
    const nonCanonical = le(P + 1n); // y = p + 1 ≡ 1: not the canonical encoding
    for (const r of [identity, nonCanonical, le(P), new Uint8Array(32).fill(255)]) {
      const bad = sig.slice();
      bad.set(r, 0);
      expect(both(bad, msg, k.id, k.publicKey)).toBe(false);
    }
    for (const key of [identity, nonCanonical, le(2n), new Uint8Array(32).fill(255)])
      expect(both(sig, msg, base64url(key), key)).toBe(false);
  });

  it('accepts, as noble does, a signature whose R has a small-order part (only the cofactored equation holds)', () => {
    // R' = [r]B + T, T the point of order 2: [S]B − [k]A is [r]B, not R', so the quick check on
    // encodings fails, and the strict verification's cofactored equation ([8]T = 0) decides.
    const { scalar: a } = ed25519.utils.getExtendedPublicKey(k.secret);
    const T = ed25519.Point.fromBytes(le(2n ** 255n - 20n)); // y = p − 1, x = 0: order 2
    expect(T.multiply(2n).is0()).toBe(true);
    for (let i = 0; i < 4; i++) {
      const msg = text(`torsion ${i}`);
      const r = BigInt(1000 + i * 7919);
      const R = ed25519.Point.BASE.multiply(r).add(T).toBytes();
      const kk = numberLE(sha512(Uint8Array.from([...R, ...k.publicKey, ...msg]))) % L;
      const sig = Uint8Array.from([...R, ...le((r + kk * a) % L)]);
      expect(both(sig, msg, k.id, k.publicKey)).toBe(true);
      // With another message the equation holds neither way.
      expect(both(sig, text(`other ${i}`), k.id, k.publicKey)).toBe(false);
    }
  });

  it('refuses a signature by another key, and another key’s bytes under a remembered id', () => {
    const other = keypair(2);
    const msg = text('rotation');
    const sig = ed25519.sign(msg, other.secret);
    expect(both(sig, msg, k.id, k.publicKey)).toBe(false);
    expect(both(sig, msg, other.id, other.publicKey)).toBe(true);
    // The memo is keyed by the id; bytes that are not the remembered key's are refused.
    expect(verifyWithKey(sig, msg, k.id, other.publicKey)).toBe(false);
  });

  it('answers the same beyond the memo’s size (keys then decoded per call)', () => {
    for (let n = 10; n < 10 + MAX_KEYS + 4; n++) {
      const kp = keypair(n);
      const msg = text(`key ${n}`);
      const sig = ed25519.sign(msg, kp.secret);
      expect(both(sig, msg, kp.id, kp.publicKey)).toBe(true);
      expect(both(sig, text(`key ${n + 1}`), kp.id, kp.publicKey)).toBe(false);
    }
  });

  it('refuses wrong lengths', () => {
    const msg = text('lengths');
    const sig = ed25519.sign(msg, k.secret);
    expect(verifyWithKey(sig.subarray(0, 63), msg, k.id, k.publicKey)).toBe(false);
    expect(verifyWithKey(sig, msg, k.id, k.publicKey.subarray(0, 31))).toBe(false);
  });
});
