import { mkdtempSync, rmSync, statSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { loadActorSigner, trustedActorKeys, type ActorSigner } from '../../worker/actor-keys.ts';
import {
  base64url,
  checkActorAssertion,
  fromBase64url,
  parseAssertion,
  VERIFIED_MAX,
  verifiedAssertions,
} from '../../workflows/core/assertion.ts';
import { compileProcedure } from '../../workflows/core/compile.ts';
import type { Actor } from '../../workflows/core/ir.ts';
import { explainRejection, startInstance } from '../../workflows/core/runtime.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'custodia-assertion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const signer: ActorSigner = loadActorSigner(path.join(dir, 'keys', 'actor-key.pem'));
const other: ActorSigner = loadActorSigner(path.join(dir, 'other.pem'));
const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const alice: Actor = { id: 'alice', roles: ['project_staff'] };
const ctx = { actor: alice, workflowId: 'wf-a', now: NOW };
const sign = (actor: Actor, opts: Parameters<ActorSigner['sign']>[1] = {}): string =>
  signer.sign(actor, { workflowId: 'wf-a', now: NOW, ...opts });

describe('actor assertions (pure verifier)', () => {
  it('accepts an assertion signed for the actor, the instance and now', () => {
    expect(checkActorAssertion(sign(alice), [signer.publicKey], ctx)).toBeUndefined();
    // A subset of the granted roles is fine; an assertion without `wf` is good for any instance.
    const both = sign(
      { id: 'alice', roles: ['project_staff', 'quality_manager'] },
      { workflowId: undefined },
    );
    expect(checkActorAssertion(both, [signer.publicKey], { ...ctx, workflowId: 'wf-b' })).toBeUndefined();
    // Key rotation: any trusted key.
    expect(checkActorAssertion(sign(alice), [other.publicKey, signer.publicKey], ctx)).toBeUndefined();
  });

  it.each([
    ['missing', undefined, /needs an "assertion"/],
    ['not a string', 42, /not a Custodia actor assertion/],
    ['garbage', 'a.b.c', /not a Custodia actor assertion/],
  ])('refuses a %s assertion with BAD_ACTOR', (_what, token, message) => {
    expect(checkActorAssertion(token, [signer.publicKey], ctx)).toEqual({
      code: 'BAD_ACTOR',
      message: expect.stringMatching(message) as string,
      zh: expect.stringMatching(/^无法验证操作人的身份：/) as string,
    });
  });

  it('refuses a tampered payload: the signature no longer verifies', () => {
    const [h, c, s] = sign(alice).split('.') as [string, string, string];
    const claims = JSON.parse(new TextDecoder().decode(fromBase64url(c))) as { roles: string[] };
    claims.roles.push('general_affairs_head');
    const forged = `${h}.${base64url(new TextEncoder().encode(JSON.stringify(claims)))}.${s}`;
    const actor = { id: 'alice', roles: ['general_affairs_head'] };
    expect(checkActorAssertion(forged, [signer.publicKey], { ...ctx, actor })?.message).toMatch(
      /signature does not verify/,
    );
  });

  it('refuses a key it does not trust, and with no keys refuses everyone', () => {
    expect(checkActorAssertion(other.sign(alice, { now: NOW }), [signer.publicKey], ctx)?.message).toMatch(
      /signed by key .* which this engine does not trust/,
    );
    // Same key id, different key: the signature decides.
    const lookalike = `${signer.publicKey.slice(0, 12)}${other.publicKey.slice(12)}`;
    expect(checkActorAssertion(sign(alice), [lookalike], ctx)?.message).toMatch(/does not verify/);
    expect(checkActorAssertion(sign(alice), [], ctx)?.message).toMatch(/trusts no actor key/);
  });

  it('refuses an expired assertion, and one that lives longer than a day', () => {
    const token = sign(alice, { ttlMs: 60_000 });
    expect(checkActorAssertion(token, [signer.publicKey], { ...ctx, now: NOW + 59_000 })).toBeUndefined();
    expect(checkActorAssertion(token, [signer.publicKey], { ...ctx, now: NOW + 60_000 })?.message).toMatch(
      /expired at 2026-12-06T12:01:00.000Z/,
    );
    expect(() => sign(alice, { ttlMs: 86_400_001 })).toThrow(/at most 24 h/);
  });

  it('refuses an assertion for another instance', () => {
    expect(
      checkActorAssertion(sign(alice), [signer.publicKey], { ...ctx, workflowId: 'wf-b' })?.message,
    ).toBe('the assertion is for instance wf-a, not wf-b');
  });

  it('refuses an actor that does not match: another user, or a role not granted', () => {
    expect(
      checkActorAssertion(sign(alice), [signer.publicKey], { ...ctx, actor: { id: 'bob', roles: [] } })
        ?.message,
    ).toMatch(/for user alice, but the event’s actor is bob/);
    const actor = { id: 'alice', roles: ['project_staff', 'general_affairs_head'] };
    expect(checkActorAssertion(sign(alice), [signer.publicKey], { ...ctx, actor })).toEqual({
      code: 'BAD_ACTOR',
      message: 'alice does not hold the role(s) general_affairs_head (the assertion grants project_staff)',
      zh: '无法验证操作人的身份：alice does not hold the role(s) general_affairs_head (the assertion grants project_staff)',
    });
  });

  it('encodes claims as a compact EdDSA JWS, non-ASCII ids included', () => {
    const token = sign({ id: '李娜', roles: ['project_staff'] });
    expect(parseAssertion(token)).toMatchObject({
      header: { alg: 'EdDSA', typ: 'custodia-actor', kid: signer.keyId },
      claims: { sub: '李娜', roles: ['project_staff'], wf: 'wf-a', iat: NOW / 1000, exp: NOW / 1000 + 900 },
    });
    const actor = { id: '李娜', roles: ['project_staff'] };
    expect(checkActorAssertion(token, [signer.publicKey], { ...ctx, actor })).toBeUndefined();
  });

  it('base64url round-trips and rejects non-canonical text', () => {
    for (const n of [0, 1, 2, 3, 31, 32, 64]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
      expect(base64url(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
      expect(fromBase64url(base64url(bytes))).toEqual(bytes);
    }
    expect(fromBase64url('AB')).toBeUndefined(); // leftover bits set
    expect(fromBase64url('A+==')).toBeUndefined();
  });
});

describe('verified assertions remembered', () => {
  it('an assertion verified once is not verified again, but its claims are checked on every event', () => {
    const token = sign(alice, { ttlMs: 60_000 });
    expect(checkActorAssertion(token, [signer.publicKey], ctx)).toBeUndefined();
    const remembered = verifiedAssertions();
    expect(checkActorAssertion(token, [signer.publicKey], ctx)).toBeUndefined();
    expect(verifiedAssertions()).toBe(remembered);
    // Remembered, and still refused once expired, on another instance, for another user or role.
    expect(checkActorAssertion(token, [signer.publicKey], { ...ctx, now: NOW + 60_000 })?.message).toMatch(
      /expired/,
    );
    expect(checkActorAssertion(token, [signer.publicKey], { ...ctx, workflowId: 'wf-b' })?.message).toMatch(
      /for instance wf-a, not wf-b/,
    );
    const manager = { id: 'alice', roles: ['quality_manager'] };
    expect(checkActorAssertion(token, [signer.publicKey], { ...ctx, actor: manager })?.message).toMatch(
      /does not hold the role/,
    );
  });

  it('one character changed is another text: verified, and refused', () => {
    const token = sign(alice, { ttlMs: 61_000 });
    expect(checkActorAssertion(token, [signer.publicKey], ctx)).toBeUndefined();
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    const altered = `${token.slice(0, -2)}${last}${token.at(-1)}`;
    expect(checkActorAssertion(altered, [signer.publicKey], ctx)?.message).toMatch(/does not verify/);
    // A refused assertion is not remembered: refused again.
    const before = verifiedAssertions();
    expect(checkActorAssertion(altered, [signer.publicKey], ctx)?.message).toMatch(/does not verify/);
    expect(verifiedAssertions()).toBe(before);
  });

  it('a remembered assertion counts only while the key it verified under is trusted', () => {
    const token = sign(alice, { ttlMs: 62_000 });
    expect(checkActorAssertion(token, [signer.publicKey], ctx)).toBeUndefined();
    // Same key id, another key (a rotation's lookalike): verified again, under that key — refused.
    const lookalike = `${signer.publicKey.slice(0, 12)}${other.publicKey.slice(12)}`;
    expect(checkActorAssertion(token, [lookalike], ctx)?.message).toMatch(/does not verify/);
    expect(checkActorAssertion(token, [other.publicKey], ctx)?.message).toMatch(/does not trust/);
    expect(checkActorAssertion(token, [lookalike, signer.publicKey], ctx)).toBeUndefined();
  });

  it('holds at most VERIFIED_MAX assertions', () => {
    for (let i = 0; i <= VERIFIED_MAX; i++) {
      const token = sign(alice, { workflowId: `wf-many-${i}` });
      expect(
        checkActorAssertion(token, [signer.publicKey], { ...ctx, workflowId: `wf-many-${i}` }),
      ).toBeUndefined();
    }
    expect(verifiedAssertions()).toBe(VERIFIED_MAX);
  });
});

describe('a signer reuses a recent assertion for the same actor and instance', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('while at least half its lifetime is left; a new one after, or for other roles, another instance or lifetime', () => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
    const reviewer = { id: 'rita', roles: ['quality_manager', 'project_staff'] };
    const first = signer.sign(reviewer, { workflowId: 'wf-r', ttlMs: 120_000 });
    vi.setSystemTime(NOW + 59_000);
    // Roles in another order are the same roles.
    const again = signer.sign(
      { id: 'rita', roles: ['project_staff', 'quality_manager'] },
      { workflowId: 'wf-r', ttlMs: 120_000 },
    );
    expect(again).toBe(first);
    expect(signer.sign(reviewer, { workflowId: 'wf-s', ttlMs: 120_000 })).not.toBe(first);
    expect(
      signer.sign({ id: 'rita', roles: ['quality_manager'] }, { workflowId: 'wf-r', ttlMs: 120_000 }),
    ).not.toBe(first);
    expect(signer.sign(reviewer, { workflowId: 'wf-r', ttlMs: 60_000 })).not.toBe(first);
    expect(
      signer.sign({ id: 'rosa', roles: reviewer.roles }, { workflowId: 'wf-r', ttlMs: 120_000 }),
    ).not.toBe(first);
    // Less than half its lifetime left: a new one, issued now.
    vi.setSystemTime(NOW + 61_000);
    const renewed = signer.sign(reviewer, { workflowId: 'wf-r', ttlMs: 120_000 });
    expect(renewed).not.toBe(first);
    expect(parseAssertion(renewed)?.claims).toMatchObject({
      iat: (NOW + 61_000) / 1000,
      exp: (NOW + 181_000) / 1000,
    });
    // An explicit issue time is never served from what was issued before.
    expect(
      parseAssertion(signer.sign(reviewer, { workflowId: 'wf-r', ttlMs: 120_000, now: NOW + 62_000 }))?.claims
        .iat,
    ).toBe((NOW + 62_000) / 1000);
  });
});

describe('the update validator with assertions (explainRejection + checkActorAssertion)', () => {
  const T = '{ zh: 甲, en: A }';
  const { ir } = validateProcedureText(
    `id: t
version: 1.0.0
title: ${T}
description: ${T}
roles: { project_staff: ${T}, head: ${T} }
events: { SUBMIT: { title: ${T} } }
initial: draft
states:
  draft: { title: ${T}, on: { SUBMIT: { target: done, roles: [head] } } }
  done: { title: ${T}, type: final }
`,
    't.yaml',
  );
  const proc = compileProcedure(ir!);
  const state = startInstance(proc, {}, alice, NOW).state;
  const validate = (actor: Actor, assertion: unknown, type = 'SUBMIT') =>
    explainRejection(proc, state, { type, actor }, NOW, (a) =>
      checkActorAssertion(assertion, [signer.publicKey], { actor: a, workflowId: 'wf-a', now: NOW }),
    );

  it('authenticates the actor before judging the event: an unverified actor learns nothing else', () => {
    expect(validate(alice, undefined, 'NO_SUCH_EVENT')?.code).toBe('BAD_ACTOR');
    const head = { id: 'alice', roles: ['head'] };
    expect(validate(head, sign(alice))?.message).toMatch(/alice does not hold the role\(s\) head/);
    expect(validate(alice, sign(alice))?.code).toBe('ROLE_NOT_ALLOWED');
    expect(validate(head, sign(head))).toBeUndefined();
  });
});

describe('actor key file', () => {
  it('is generated once with mode 0600 and read back; one readable by others is refused', () => {
    const file = path.join(dir, 'keys', 'actor-key.pem');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadActorSigner(file).publicKey).toBe(signer.publicKey);
    expect(trustedActorKeys({ CUSTODIA_ACTOR_KEY: file })).toEqual([signer.publicKey]);
    chmodSync(file, 0o644);
    expect(() => loadActorSigner(file)).toThrow(/may be read by others: chmod 600/);
    chmodSync(file, 0o600);
  });

  it('CUSTODIA_ACTOR_PUBLIC_KEYS lists the trusted keys (a worker needs no private key)', () => {
    const env = { CUSTODIA_ACTOR_PUBLIC_KEYS: `${signer.publicKey}, ${other.publicKey}` };
    expect(trustedActorKeys(env)).toEqual([signer.publicKey, other.publicKey]);
    expect(() => trustedActorKeys({ CUSTODIA_ACTOR_PUBLIC_KEYS: 'nope' })).toThrow(/base64url Ed25519/);
  });
});
