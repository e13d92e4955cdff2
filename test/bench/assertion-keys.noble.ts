/**
 * Benchmark only (`npm run bench -- --before assertion-keys`): bundled in place of
 * workflows/core/assertion-keys.ts, the actor assertion's signature checked as before that
 * module — noble's `ed25519.verify`, the key decoded on every call, no table for it.
 */
import { ed25519 } from '@noble/curves/ed25519.js';

export const KEY_WINDOW = 0;
export const MAX_KEYS = 0;

export function verifyWithKey(
  signature: Uint8Array,
  message: Uint8Array,
  _id: string,
  publicKey: Uint8Array,
): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
