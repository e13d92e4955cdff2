/**
 * Ed25519 signature verification against a trusted key whose point is decoded and precomputed
 * once, for the actor assertions (`assertion.ts`) that the `event` update's validator checks.
 *
 * `ed25519.verify` decodes the public key on every call and multiplies it by the challenge
 * scalar without a table: ~90 % of a verification's CPU (a few ms in pure JavaScript, inside the
 * workflow sandbox, for every event). Here each trusted key is decoded, checked (not of small
 * order) and given a fixed-window table once; a verification is then a table multiplication,
 * the base multiplication (noble's own table), and a comparison of [S]B − [k]A's encoding with R's
 * — R is decompressed, and the cofactored equation checked, only when they differ. The answers
 * are those of `ed25519.verify(signature, message, key, { zip215: false })` (RFC 8032 / FIPS 186-5
 * strict decoding), which `test/unit/assertion-keys.test.ts` compares it with.
 *
 * The memo holds math only (a key's point and table; a result never depends on it) and at most
 * {@link MAX_KEYS} keys (the trusted ones: `checkActorAssertion` verifies against no other).
 * The worker preloads this module (`PRELOADED_MODULES` in worker/worker.ts), so the memo lives
 * once per reusable V8 context instead of once per workflow. Pure: no I/O, deterministic.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';

type Point = typeof ed25519.Point.BASE;
const { Point, Fn } = { Point: ed25519.Point, Fn: ed25519.Point.Fn };

/** Window of a key's table: 2^(W−1) points per window, ⌈253 / W⌉ + 1 windows. */
export const KEY_WINDOW = 6;
/** Keys remembered (several during a rotation); beyond, a key is decoded per call. */
export const MAX_KEYS = 16;

interface KeyEntry {
  bytes: Uint8Array;
  /** Undefined: not a valid strict Ed25519 public key (undecodable or of small order). */
  point: Point | undefined;
}

const keys = new Map<string, KeyEntry>();

function decodeKey(bytes: Uint8Array, precompute: boolean): KeyEntry {
  let point: Point | undefined;
  try {
    point = Point.fromBytes(bytes, false);
    if (point.isSmallOrder()) point = undefined;
  } catch {
    point = undefined;
  }
  if (point && precompute) point.precompute(KEY_WINDOW, false);
  return { bytes, point };
}

/** The decoded (and, when remembered, precomputed) key `id`, whose 32 bytes are `bytes`. */
function keyOf(id: string, bytes: Uint8Array): KeyEntry {
  const known = keys.get(id);
  if (known) return known;
  if (keys.size >= MAX_KEYS) return decodeKey(bytes, false);
  const entry = decodeKey(bytes, true);
  keys.set(id, entry);
  return entry;
}

function numberLE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/**
 * Whether `signature` (64 bytes) is a strict Ed25519 signature of `message` by the public key
 * `publicKey` (32 bytes), known as `id` (its base64url text) — as
 * `ed25519.verify(signature, message, publicKey, { zip215: false })`.
 */
export function verifyWithKey(
  signature: Uint8Array,
  message: Uint8Array,
  id: string,
  publicKey: Uint8Array,
): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const key = keyOf(id, publicKey);
  // A memo hit for another key's bytes under the same id cannot happen through `assertion.ts`
  // (the id is the key's own encoding); refuse rather than trust it.
  if (!key.point || !equal(key.bytes, publicKey)) return false;
  const r = signature.subarray(0, 32);
  const s = numberLE(signature.subarray(32, 64));
  if (!Fn.isValid(s)) return false; // 0 <= s < L (no malleable signatures)
  const SB = Point.BASE.multiplyUnsafe(s);
  const k = Fn.create(numberLE(sha512(concat(r, publicKey, message))));
  const kA = key.point.multiplyUnsafe(k);
  // First the equation without the cofactor, on encodings: R = [S]B − [k]A exactly when `r` is
  // the encoding of [S]B − [k]A (an encoding is canonical and of a point on the curve, so `r`
  // then decodes strictly to it). Then the cofactored equation holds too: the signature is valid,
  // and R was not decompressed (a square root, about a fifth of a verification).
  if (equal(SB.subtract(kA).toBytes(), r)) return true;
  // Otherwise what the strict verification decides: `r` must decode strictly, and the cofactored
  // equation [8][S]B = [8]R + [8][k]A hold (it may where the one without the cofactor does not).
  let R: Point;
  try {
    R = Point.fromBytes(r, false);
  } catch {
    return false;
  }
  return R.add(kA).subtract(SB).clearCofactor().is0();
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
