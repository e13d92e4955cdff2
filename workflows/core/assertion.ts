/**
 * Actor assertions: who sends an event, signed by the API or the CLI, checked by the engine.
 *
 * An assertion is a compact JWS (`header.claims.signature`, each part base64url) signed with
 * Ed25519 (`alg: EdDSA`). Its claims say which directory user acts (`sub`), with which roles, on
 * which instance (`wf`; absent = any instance, for `custodia token` without `--workflow`), until
 * when (`exp`, seconds since the epoch; `iat` when it was issued). The header's `kid` names the
 * signing key: the first {@link KEY_ID_LENGTH} characters of its base64url public key.
 *
 * `checkActorAssertion` is pure and synchronous (the update validator calls it with the
 * workflow's clock); it refuses with `BAD_ACTOR` and says why. Signing needs a private key and
 * is done in Node (`worker/actor-keys.ts`) over {@link signingInput}.
 */
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { verifyWithKey } from './assertion-keys.ts';
import type { Actor } from './ir.ts';
import type { Rejection } from './rejections.ts';

/** The claims of an actor assertion. Times are seconds since the epoch (JWT NumericDate). */
export interface ActorClaims {
  /** The directory user's canonical id; the event's `actor.id` must be exactly this. */
  sub: string;
  /** The roles the user holds; the event's `actor.roles` must all be among them. */
  roles: string[];
  /** The workflow id it is good for; absent: any. */
  wf?: string;
  iat: number;
  exp: number;
}

export interface AssertionHeader {
  alg: 'EdDSA';
  typ: 'custodia-actor';
  kid: string;
}

/** Longest lifetime (`exp - iat`) the engine accepts, whatever the signer says. */
export const MAX_ASSERTION_TTL_S = 86_400;
/** Clock skew tolerated between the signer and the workflow clock for `iat`. */
export const CLOCK_SKEW_S = 300;
/** Length of a key id: a prefix of the base64url public key. */
export const KEY_ID_LENGTH = 12;

/** The key id of a base64url public key. */
export function keyIdOf(publicKey: string): string {
  return publicKey.slice(0, KEY_ID_LENGTH);
}

/** The bytes a signature covers: `base64url(header) "." base64url(claims)`, as ASCII. */
export function signingInput(header: AssertionHeader, claims: ActorClaims): string {
  return `${base64url(utf8ToBytes(JSON.stringify(header)))}.${base64url(utf8ToBytes(JSON.stringify(claims)))}`;
}

/** What an event claims and where: the actor, the instance, the workflow clock (ms). */
export interface AssertionContext {
  actor: Actor;
  workflowId: string;
  now: number;
}

const bad = (message: string): Rejection => ({
  code: 'BAD_ACTOR',
  message,
  zh: `无法验证操作人的身份：${message}`,
});

const HOW_TO_GET_ONE =
  'send through the API or `custodia send`, or pass "assertion" from `custodia token --as USER --workflow ID`';

const NOT_AN_ASSERTION = 'the assertion is not a Custodia actor assertion (header.claims.signature)';

/**
 * Why `token` does not authenticate `ctx.actor` on `ctx.workflowId` at `ctx.now`, or `undefined`
 * when it does. `trustedKeys` are base64url Ed25519 public keys (several during a rotation).
 */
export function checkActorAssertion(
  token: unknown,
  trustedKeys: readonly string[],
  ctx: AssertionContext,
): Rejection | undefined {
  if (!trustedKeys.length)
    return bad('this engine trusts no actor key, so it can authenticate no one (see CUSTODIA_ACTOR_KEY)');
  if (token === undefined || token === null || token === '')
    return bad(`an event needs an "assertion" that signs its actor: ${HOW_TO_GET_ONE}`);
  if (typeof token !== 'string') return bad(NOT_AN_ASSERTION);
  // Seen and verified before, under a key still trusted: its claims as decoded then.
  const known = verifiedBefore(token, trustedKeys);
  if (known) return checkClaims(known, ctx);
  const parsed = parseAssertion(token);
  if (!parsed) return bad(NOT_AN_ASSERTION);
  const { header, claims, signed, signature } = parsed;
  const keys = trustedKeys.filter((k) => keyIdOf(k) === header.kid);
  if (!keys.length)
    return bad(`the assertion is signed by key ${header.kid}, which this engine does not trust`);
  const message = ascii(signed);
  const key = keys.find((k) => verifies(signature, message, k));
  if (!key) return bad('the assertion’s signature does not verify: it was altered or signed by another key');
  rememberVerified(token, key, claims);
  return checkClaims(claims, ctx);
}

/** Verified assertions remembered (the least recently used is dropped beyond). */
export const VERIFIED_MAX = 2048;

/**
 * Assertions whose signature verified, each with the trusted key it verified against. An
 * assertion is good for many events (until it expires), and the API reuses one for an actor's
 * events on an instance (`worker/actor-keys.ts`): its Ed25519 check — most of an event's check —
 * is then done once. The memo holds only what is true forever (this exact text verifies under
 * this key: verification is deterministic), so a hit answers what a verification would; it is
 * used only while that key is still trusted, and the claims (expiry, instance, user, roles) are
 * checked on every event. Nothing unverified enters it, so a flood of forged assertions cannot
 * grow it. At most {@link VERIFIED_MAX} entries of a few hundred bytes; preloaded by the worker,
 * so one memo per reusable V8 context. Validators do not run on replay: no history depends on it.
 */
const verified = new Map<string, { key: string; claims: Readonly<ActorClaims> }>();

/**
 * The claims of `token` if it verified before under a key of `trustedKeys` (the key it verified
 * under had the header’s key id, `keyIdOf` of the key itself), else `undefined`.
 * A hit skips decoding the text again as well as the signature check; the claims were decoded from
 * this very text and are frozen.
 */
function verifiedBefore(token: string, trustedKeys: readonly string[]): Readonly<ActorClaims> | undefined {
  const entry = verified.get(token);
  if (entry === undefined || !trustedKeys.includes(entry.key)) return undefined;
  verified.delete(token); // most recently used last
  verified.set(token, entry);
  return entry.claims;
}

function rememberVerified(token: string, key: string, claims: ActorClaims): void {
  Object.freeze(claims.roles);
  verified.set(token, { key, claims: Object.freeze(claims) });
  if (verified.size > VERIFIED_MAX) verified.delete(verified.keys().next().value as string);
}

/** How many verified assertions are remembered (for tests and metrics). */
export function verifiedAssertions(): number {
  return verified.size;
}

/** The claims against the event: expiry, lifetime, instance, user, roles. */
function checkClaims(claims: Readonly<ActorClaims>, ctx: AssertionContext): Rejection | undefined {
  const nowS = Math.floor(ctx.now / 1000);
  if (claims.exp <= nowS)
    return bad(`the assertion expired at ${iso(claims.exp)} (now ${iso(nowS)}); get a new one`);
  if (claims.iat > nowS + CLOCK_SKEW_S)
    return bad(`the assertion is issued in the future (${iso(claims.iat)})`);
  if (claims.exp - claims.iat > MAX_ASSERTION_TTL_S)
    return bad(`the assertion lives longer than ${MAX_ASSERTION_TTL_S / 3600} h; get a shorter one`);
  if (claims.wf !== undefined && claims.wf !== ctx.workflowId)
    return bad(`the assertion is for instance ${claims.wf}, not ${ctx.workflowId}`);
  if (claims.sub !== ctx.actor.id)
    return bad(`the assertion is for user ${claims.sub}, but the event’s actor is ${ctx.actor.id}`);
  const notHeld = ctx.actor.roles.filter((r) => !claims.roles.includes(r));
  if (notHeld.length)
    return bad(
      `${claims.sub} does not hold the role(s) ${notHeld.join(', ')} (the assertion grants ${claims.roles.join(', ') || 'no role'})`,
    );
  return undefined;
}

/** Strict Ed25519 (`zip215: false`), the key's point decoded and precomputed once (assertion-keys.ts). */
function verifies(signature: Uint8Array, message: Uint8Array, publicKey: string): boolean {
  const key = fromBase64url(publicKey);
  if (!key || key.length !== 32 || signature.length !== 64) return false;
  try {
    return verifyWithKey(signature, message, publicKey, key);
  } catch {
    return false;
  }
}

interface ParsedAssertion {
  header: AssertionHeader;
  claims: ActorClaims;
  signed: string;
  signature: Uint8Array;
}

/** Decode an assertion's parts (no signature check); `undefined` when it is not well formed. */
export function parseAssertion(token: string): ParsedAssertion | undefined {
  if (token.length > 8192) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h = '', c = '', s = ''] = parts;
  const header = jsonOf(h) as Partial<AssertionHeader> | undefined;
  const claims = jsonOf(c) as Partial<ActorClaims> | undefined;
  const signature = fromBase64url(s);
  if (!header || header.alg !== 'EdDSA' || header.typ !== 'custodia-actor' || typeof header.kid !== 'string')
    return undefined;
  if (!claims || !signature || !isClaims(claims)) return undefined;
  return { header: header as AssertionHeader, claims, signed: `${h}.${c}`, signature };
}

function isClaims(c: Partial<ActorClaims>): c is ActorClaims {
  return (
    typeof c.sub === 'string' &&
    c.sub !== '' &&
    Array.isArray(c.roles) &&
    c.roles.every((r) => typeof r === 'string') &&
    (c.wf === undefined || typeof c.wf === 'string') &&
    Number.isSafeInteger(c.iat) &&
    Number.isSafeInteger(c.exp)
  );
}

function jsonOf(part: string): unknown {
  const bytes = fromBase64url(part);
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(fromUtf8(bytes));
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

// base64url and UTF-8 decoding without Buffer, TextDecoder or atob (pure: sandbox, Node, browser).

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Bytes → base64url without padding. */
export function base64url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let j = 0; j < chars; j++) out += ALPHABET[(n >> (18 - 6 * j)) & 63];
  }
  return out;
}

/** base64url (no padding) → bytes; `undefined` for anything else. */
export function fromBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 6) / 8));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const ch of text) {
    acc = ((acc << 6) | ALPHABET.indexOf(ch)) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
    }
  }
  // Non-zero leftover bits: not the canonical encoding of any bytes.
  if (acc & ((1 << bits) - 1)) return undefined;
  return out;
}

function fromUtf8(bytes: Uint8Array): string {
  let escaped = '';
  for (const b of bytes) escaped += `%${b.toString(16).padStart(2, '0')}`;
  return decodeURIComponent(escaped);
}

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 255;
  return out;
}
