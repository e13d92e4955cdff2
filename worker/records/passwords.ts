/**
 * Password hashing: argon2id (`@noble/hashes`, pure JS) with OWASP's parameters — 19 MiB, 2
 * passes, 1 lane — and a 16-byte random salt, stored as a PHC string
 * (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, unpadded base64) so parameters can be raised
 * later without invalidating stored hashes. About 250 ms per hash on one core; the async variant
 * yields to the event loop every 10 ms so a login does not stall other requests.
 *
 * Passwords are NFKC-normalised (NIST SP 800-63B) and compared in constant time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { RecordsError } from './errors.ts';

export interface Argon2Params {
  /** Memory in KiB. */
  m: number;
  /** Passes. */
  t: number;
  /** Lanes. */
  p: number;
}

/** OWASP Password Storage Cheat Sheet, argon2id option 2 (m=19 MiB, t=2, p=1). */
export const ARGON2_PARAMS: Argon2Params = { m: 19456, t: 2, p: 1 };

export const MIN_PASSWORD_LENGTH = 12;
/** Longer inputs are refused (hashing cost is linear in the input; nobody types 1 KiB). */
export const MAX_PASSWORD_LENGTH = 1024;

const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Stored parameters beyond these are refused (a tampered row must not exhaust the process). */
const LIMITS: Argon2Params = { m: 1 << 20, t: 16, p: 8 };

/** Refuse a password the policy does not allow (`WEAK_PASSWORD`). */
export function checkPasswordPolicy(password: string): void {
  const length = [...password.normalize('NFKC')].length;
  if (length < MIN_PASSWORD_LENGTH)
    throw new RecordsError(
      'WEAK_PASSWORD',
      `password too short: ${length} character(s), at least ${MIN_PASSWORD_LENGTH} required (a passphrase of a few words works well)`,
    );
  if (length > MAX_PASSWORD_LENGTH)
    throw new RecordsError('WEAK_PASSWORD', `password too long: at most ${MAX_PASSWORD_LENGTH} characters`);
}

/** The PHC string of a new hash of `password` (policy not checked here). */
export async function hashPassword(password: string, params: Argon2Params = ARGON2_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, HASH_BYTES);
  return `$argon2id$v=19$m=${params.m},t=${params.t},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

/** Whether `password` matches the PHC string `stored` (false for a malformed one). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const phc = parsePhc(stored);
  if (!phc || password.length > MAX_PASSWORD_LENGTH * 4) return false;
  const actual = await derive(password, phc.salt, phc.params, phc.hash.length);
  return timingSafeEqual(actual, phc.hash);
}

let dummy: Promise<string> | undefined;

/** Spend what a verification costs, for a user that does not exist (no timing oracle for ids). */
export async function burnVerification(password: string): Promise<void> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await dummy);
}

async function derive(
  password: string,
  salt: Uint8Array,
  params: Argon2Params,
  dkLen: number,
): Promise<Buffer> {
  const out = await argon2idAsync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, {
    ...params,
    dkLen,
    asyncTick: 10,
  });
  return Buffer.from(out);
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function parsePhc(s: string): { params: Argon2Params; salt: Buffer; hash: Buffer } | undefined {
  const m = PHC.exec(s);
  if (!m) return undefined;
  const params = { m: Number(m[1]), t: Number(m[2]), p: Number(m[3]) };
  if (
    params.m > LIMITS.m ||
    params.t > LIMITS.t ||
    params.p > LIMITS.p ||
    params.t < 1 ||
    params.p < 1 ||
    params.m < 8 * params.p
  )
    return undefined;
  const salt = Buffer.from(m[4]!, 'base64');
  const hash = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8 || hash.length < 16) return undefined;
  return { params, salt, hash };
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}
