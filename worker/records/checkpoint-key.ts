/**
 * The checkpoint signing key: an Ed25519 key in a PEM file outside the database (mode 0600,
 * generated on first use), so someone who can rewrite the database — including the database
 * role itself — cannot sign a checkpoint for a rewritten history.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { RecordsError } from './errors.ts';

export interface CheckpointKey {
  privateKey?: KeyObject;
  publicKey: KeyObject;
  /** The raw 32-byte public key, base64. */
  publicKeyRaw: string;
  /** First 16 hex digits of the SHA-256 of the raw public key. */
  keyId: string;
}

function describe(privateKey: KeyObject | undefined, publicKey: KeyObject): CheckpointKey {
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  return {
    privateKey,
    publicKey,
    publicKeyRaw: raw.toString('base64'),
    keyId: createHash('sha256').update(raw).digest('hex').slice(0, 16),
  };
}

function read(keyFile: string): CheckpointKey {
  const mode = statSync(keyFile).mode & 0o777;
  if (mode & 0o077)
    throw new RecordsError(
      'CHECKPOINT_FAILED',
      `the audit checkpoint key ${keyFile} is readable by others (mode ${mode.toString(8)}): chmod 600 it`,
    );
  const privateKey = createPrivateKey(readFileSync(keyFile, 'utf8'));
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new RecordsError('CHECKPOINT_FAILED', `the audit checkpoint key ${keyFile} is not an Ed25519 key`);
  return describe(privateKey, createPublicKey(privateKey));
}

/** The key in `keyFile`, or undefined when there is none yet. */
export function readCheckpointKey(keyFile: string): CheckpointKey | undefined {
  return existsSync(keyFile) ? read(keyFile) : undefined;
}

/**
 * The key in `keyFile`, created (mode 0600, its folder 0700) when missing. Two processes creating
 * it at once end with the same key: it is written aside and linked into place, and the loser reads
 * the winner's.
 */
export function loadOrCreateCheckpointKey(keyFile: string): CheckpointKey {
  if (existsSync(keyFile)) return read(keyFile);
  mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const aside = `${keyFile}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(aside, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  chmodSync(aside, 0o600);
  try {
    linkSync(aside, keyFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(aside);
  }
  return read(keyFile);
}

/** A public key given as raw base64 (as exports carry it). */
export function publicKeyFromRaw(raw: string): CheckpointKey {
  const x = Buffer.from(raw, 'base64').toString('base64url');
  return describe(undefined, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }));
}
