/**
 * The actor key: the Ed25519 key pair with which the API and the CLI sign actor assertions
 * (`workflows/core/assertion.ts`), and whose public half the worker bundles into the workflow.
 *
 * - The private key is a PKCS#8 PEM file, `CUSTODIA_ACTOR_KEY` or `data/actor-key.pem` under the
 *   repository root, generated on first use with mode 0600 (a file others may read is refused).
 *   Every process that signs (API, `custodia send`, `custodia token`) reads the same file.
 * - Workers need only public keys: `CUSTODIA_ACTOR_PUBLIC_KEYS` (base64url, comma-separated —
 *   list the old and the new key while rotating), else the public half of the key file.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  MAX_ASSERTION_TTL_S,
  fromBase64url,
  keyIdOf,
  signingInput,
  type ActorClaims,
} from '../workflows/core/assertion.ts';
import type { Actor } from '../workflows/core/ir.ts';
import { setting } from './settings.ts';

const REPO_ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Lifetime of an assertion when none is asked for (`custodia token`; the API and `send` use less). */
export const DEFAULT_ASSERTION_TTL_MS = 15 * 60_000;
/** Lifetime of the assertion the API and `custodia send` sign for one event. */
export const EVENT_ASSERTION_TTL_MS = 2 * 60_000;
/** The longest lifetime anyone may ask for (the engine refuses longer ones too). */
export const MAX_ASSERTION_TTL_MS = MAX_ASSERTION_TTL_S * 1000;
/** Recent assertions a signer keeps for reuse (the least recently issued dropped beyond). */
export const REUSED_MAX = 10_000;

/** The private key file. Env: CUSTODIA_ACTOR_KEY (default `data/actor-key.pem`). */
export function actorKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  const raw = setting('CUSTODIA_ACTOR_KEY', env);
  return path.resolve(REPO_ROOT, raw || 'data/actor-key.pem');
}

export interface SignOptions {
  /** The instance the assertion is good for; absent: any instance. */
  workflowId?: string;
  ttlMs?: number;
  /** Issue time (ms); default now. */
  now?: number;
}

export interface ActorSigner {
  /** base64url raw public key. */
  publicKey: string;
  keyId: string;
  file: string;
  /**
   * An assertion that `actor` acts (on `workflowId`, for `ttlMs`). Without `now`, an assertion
   * issued for the same user, roles, instance and lifetime is returned again while at least half
   * its lifetime is left: an assertion is good for many events until it expires (it signs who
   * acts, not what they send), and the engine checks a signature it has seen once without Ed25519
   * (`workflows/core/assertion.ts`). The roles are the actor's as the caller resolved them now, so
   * a change of roles gets a new one.
   */
  sign(actor: Actor, opts?: SignOptions): string;
  /** `<key id>.<Ed25519 signature, base64url>` of a UTF-8 message (an attachment's receipt). */
  signMessage(message: string): string;
}

/** A signer over the key in `file`, generated there (mode 0600) when it does not exist. */
export function loadActorSigner(file = actorKeyFile()): ActorSigner {
  const privateKey = readOrCreateKey(file);
  const publicKey = publicKeyOf(privateKey);
  const keyId = keyIdOf(publicKey);
  const recent = new Map<string, { token: string; expMs: number }>();
  return {
    publicKey,
    keyId,
    file,
    sign(actor, opts = {}) {
      const ttlMs = opts.ttlMs ?? DEFAULT_ASSERTION_TTL_MS;
      if (!(ttlMs > 0 && ttlMs <= MAX_ASSERTION_TTL_MS))
        throw new Error(`an assertion lives more than 0 and at most ${MAX_ASSERTION_TTL_S / 3600} h`);
      const now = opts.now ?? Date.now();
      const roles = [...new Set(actor.roles)].sort();
      // Issued now (no time asked for): the same actor, roles and instance reuse a recent assertion.
      const reuse =
        opts.now === undefined
          ? JSON.stringify([actor.id, roles, opts.workflowId ?? null, ttlMs])
          : undefined;
      const hit = reuse === undefined ? undefined : recent.get(reuse);
      if (hit && hit.expMs - now >= ttlMs / 2) return hit.token;
      const iat = Math.floor(now / 1000);
      const claims: ActorClaims = {
        sub: actor.id,
        roles,
        ...(opts.workflowId !== undefined ? { wf: opts.workflowId } : {}),
        iat,
        exp: iat + Math.ceil(ttlMs / 1000),
      };
      const input = signingInput({ alg: 'EdDSA', typ: 'custodia-actor', kid: keyId }, claims);
      const token = `${input}.${sign(null, Buffer.from(input, 'ascii'), privateKey).toString('base64url')}`;
      if (reuse !== undefined) {
        recent.delete(reuse);
        recent.set(reuse, { token, expMs: claims.exp * 1000 });
        if (recent.size > REUSED_MAX) recent.delete(recent.keys().next().value as string);
      }
      return token;
    },
    signMessage(message) {
      return `${keyId}.${sign(null, Buffer.from(message, 'utf8'), privateKey).toString('base64url')}`;
    },
  };
}

let processSigner: ActorSigner | undefined;

/** This process's signer (the key file from the environment), loaded once. */
export function actorSigner(): ActorSigner {
  processSigner ??= loadActorSigner();
  return processSigner;
}

/**
 * The public keys a worker trusts: CUSTODIA_ACTOR_PUBLIC_KEYS, else the public half of the key
 * file (generated when missing, so a fresh `npm start` works with no setup).
 */
export function trustedActorKeys(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = setting('CUSTODIA_ACTOR_PUBLIC_KEYS', env);
  // This process's own key file is read once (the API asks on every `POST /api/actors/check`).
  if (!raw) return [(env === process.env ? actorSigner() : loadActorSigner(actorKeyFile(env))).publicKey];
  const keys = raw
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const bad = keys.filter((k) => fromBase64url(k)?.length !== 32);
  if (bad.length || !keys.length)
    throw new Error(
      `CUSTODIA_ACTOR_PUBLIC_KEYS must list base64url Ed25519 public keys (43 characters), got "${bad.join(', ') || raw}"`,
    );
  return keys;
}

function publicKeyOf(privateKey: KeyObject): string {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string')
    throw new Error('the actor key is not an Ed25519 key');
  return jwk.x;
}

function readOrCreateKey(file: string): KeyObject {
  let pem: string;
  try {
    const mode = statSync(file).mode;
    if (mode & 0o077)
      throw new Error(`the actor key ${file} may be read by others: chmod 600 it (or make a new one)`);
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    pem = createKeyFile(file);
  }
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`the actor key ${file} is not an Ed25519 key`);
  return key;
}

/** Write a new key (exclusively: a process that lost the race reads the winner's). */
function createKeyFile(file: string): string {
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
    return pem;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readFileSync(file, 'utf8');
  }
}
