/**
 * Four-eyes deployment without Temporal: the `deploy_definition` action kind (its effect carries
 * the pinned text), its executor's outcome on a real embedded store (deployed once, idempotent on
 * a retry, refused with nothing written when the text was altered, the version moved on or the
 * draft is invalid), what a proposal computes (diff, dropped safeguards, size cap), and the deploy
 * route's refusals before any instance starts (the Temporal client here is an empty object: any
 * use of it would be a 500).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { compileAction } from '../../workflows/core/actions/index.ts';
import { loadProcedure } from '../../workflows/core/load.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import { hashProcedure } from '../../workflows/core/hash.ts';
import { deployApproved, sha256Hex } from '../../worker/activities/deploy-definition.ts';
import { createApi, type Api } from '../../worker/api/server.ts';
import { CSRF_HEADER, SESSION_COOKIE } from '../../worker/api/sessions.ts';
import type { LoadedDefinition } from '../../worker/definitions.ts';
import {
  checkProposalSize,
  MAX_PROPOSAL_BYTES,
  PROPOSED_THROUGH_DEPLOY,
  ProposalTooLarge,
  unifiedDiff,
  weakenedSafeguards,
} from '../../worker/proposals.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { REPO_ROOT } from '../../worker/settings.ts';
import { withMemoryStore } from '../support/records.ts';

const REVIEW = readFileSync(path.join(REPO_ROOT, 'test/fixtures/engine/review.yaml'), 'utf8');
const tiny = (version: string, title = 'Tiny'): string => `
id: tiny
version: ${version}
title: { zh: 小, en: ${title} }
description: { zh: 小, en: Tiny }
roles: { staff: { zh: 员工, en: Staff } }
events: { GO: { title: { zh: 走, en: Go } } }
initial: a
states:
  a: { title: { zh: 甲, en: A }, on: { GO: { target: b, roles: staff } } }
  b: { title: { zh: 乙, en: B }, type: final }
`;

function loaded(yaml: string): LoadedDefinition {
  const { ir } = loadProcedure(yaml, 'x.yaml');
  if (!ir) throw new Error('fixture does not load');
  return { file: 'x.yaml', ir, hash: hashProcedure(ir) };
}

let store: RecordsStore;
withMemoryStore((s) => ({ store } = s));

describe('the deploy_definition action kind', () => {
  it('compiles to an effect carrying the evaluated text and hash', () => {
    const action = compileAction({ kind: 'deploy_definition', yaml: 'ctx.yaml', sha256: 'ctx.sha256' });
    expect(action.type).toBe('$effect');
    const params = action.params as (a: { context: object; event: object }) => unknown;
    expect(
      params({
        context: { yaml: 'id: x', sha256: 'ab', $meta: {} } as object,
        event: { type: 'APPROVE', data: {}, actor: { id: 'bob', roles: ['admin'] } },
      }),
    ).toEqual({ kind: 'deploy_definition', yaml: 'id: x', sha256: 'ab' });
  });

  it('only the engine’s definition_change may carry it: elsewhere PROC_ENGINE_ONLY_ACTION at the action', () => {
    const yaml = tiny('1.0.0').replace(
      'on: { GO: { target: b, roles: staff } }',
      `on: { GO: { target: b, roles: staff, actions: [{ deploy_definition: { yaml: "'x'", sha256: "'y'" } }] } }`,
    );
    const result = validateProcedureText(yaml, 'tiny.yaml');
    expect(result.diagnostics.map((d) => [d.code, d.line])).toEqual([['PROC_ENGINE_ONLY_ACTION', 10]]);
  });

  it('the shipped definition_change refuses the author through its duty, in its IR', () => {
    const text = readFileSync(path.join(REPO_ROOT, 'definitions/definition_change.yaml'), 'utf8');
    const { ir, diagnostics } = loadProcedure(text, 'definition_change.yaml');
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(ir?.duties).toEqual(
      expect.arrayContaining([expect.objectContaining({ event: 'APPROVE', distinctFrom: ['PROPOSE'] })]),
    );
    expect(ir?.clientField).toBeUndefined();
  });
});

describe('the executor: deploy the approved text, all or nothing', () => {
  const approve = (yaml: string, sha256 = sha256Hex(yaml)) => ({
    kind: 'deploy_definition' as const,
    yaml,
    sha256,
  });

  it('deploys once; a retry finds it deployed (DEPLOYED again, one version)', async () => {
    const definitions = new Map([['tiny', loaded(tiny('1.0.0'))]]);
    const yaml = tiny('1.1.0', 'Tiny two');
    const first = await deployApproved(approve(yaml), 'bob', 'p.yaml', store, { definitions });
    expect(first).toEqual({ type: 'DEPLOYED', data: { hash: definitions.get('tiny')!.hash } });
    expect(definitions.get('tiny')?.ir.version).toBe('1.1.0');
    expect(await store.definitionVersion('tiny', '1.1.0')).toMatchObject({ deployedBy: 'bob', yaml });
    const again = await deployApproved(approve(yaml), 'bob', 'p.yaml', store, { definitions });
    expect(again).toEqual(first);
    expect((await store.definitionVersions('tiny')).map((v) => v.version)).toEqual(['1.1.0']);
  });

  it('refuses a text that does not hash to the approved SHA-256: nothing written', async () => {
    const definitions = new Map<string, LoadedDefinition>();
    const out = await deployApproved(approve(tiny('2.0.0'), sha256Hex('other')), 'bob', 'p.yaml', store, {
      definitions,
    });
    expect(out).toMatchObject({ type: 'DEPLOY_FAILED', data: { code: 'HASH_MISMATCH' } });
    expect(await store.definitionVersion('tiny', '2.0.0')).toBeUndefined();
    expect(definitions.size).toBe(0);
  });

  it('refuses when the current version moved on since the proposal, or the draft is invalid', async () => {
    const definitions = new Map([['tiny', loaded(tiny('3.0.0'))]]);
    const stale = await deployApproved(approve(tiny('2.5.0')), 'bob', 'p.yaml', store, { definitions });
    expect(stale).toMatchObject({ type: 'DEPLOY_FAILED', data: { code: 'VERSION_NOT_NEWER' } });
    const broken = tiny('4.0.0').replace('target: b', 'target: nowhere');
    const invalid = await deployApproved(approve(broken), 'bob', 'p.yaml', store, { definitions });
    expect(invalid).toMatchObject({ type: 'DEPLOY_FAILED', data: { code: 'DEFINITION_INVALID' } });
    expect(String((invalid.data as { reason: string }).reason)).toContain('nowhere');
    expect(await store.definitionVersion('tiny', '2.5.0')).toBeUndefined();
    expect(await store.definitionVersion('tiny', '4.0.0')).toBeUndefined();
    expect(definitions.get('tiny')?.ir.version).toBe('3.0.0');
  });
});

describe('what a proposal computes', () => {
  it('a unified diff against the current text', () => {
    const diff = unifiedDiff(
      'tiny',
      { version: '1.0.0', yaml: tiny('1.0.0') },
      { version: '1.1.0', yaml: tiny('1.1.0') },
    );
    expect(diff).toContain('--- tiny@1.0.0');
    expect(diff).toContain('+++ tiny@1.1.0');
    expect(diff).toContain('-version: 1.0.0\n+version: 1.1.0');
    expect(unifiedDiff('tiny', undefined, { version: '1.0.0', yaml: 'a\n' })).toContain('+a');
  });

  it('the duties and invariants a change drops or alters', () => {
    const current = loaded(REVIEW).ir;
    expect(weakenedSafeguards(current, current)).toEqual([]);
    expect(weakenedSafeguards(undefined, current)).toEqual([]);
    const noDuty = loaded(REVIEW.replace('distinct_from: [SUBMIT]', 'distinct_from: [APPROVE]')).ir;
    expect(weakenedSafeguards(current, noDuty)).toEqual(['duty APPROVE ≠ SUBMIT']);
    const reworded = loaded(
      REVIEW.replace('en: The approver is never the submitter', 'en: Approver ≠ submitter'),
    ).ir;
    expect(weakenedSafeguards(current, reworded)).toEqual([]);
  });

  it('caps the text at 100 kB', () => {
    expect(() => checkProposalSize('x'.repeat(MAX_PROPOSAL_BYTES))).not.toThrow();
    expect(() => checkProposalSize('é'.repeat(MAX_PROPOSAL_BYTES / 2 + 1))).toThrow(ProposalTooLarge);
  });
});

describe('POST /api/definitions refuses before any instance starts', () => {
  let api: Api;
  let base: string;
  let cookie = '';
  let csrf = '';

  beforeAll(async () => {
    await store.createUser(
      { id: 'ada', displayName: 'Ada', roles: ['admin'], password: 'p'.repeat(12) },
      't',
    );
    const s = await store.createSession('ada', 3600_000);
    cookie = `${SESSION_COOKIE}=${s.id}`;
    csrf = s.csrfToken;
    const definitions = new Map([['tiny', loaded(tiny('9.0.0'))]]);
    await store.deployDefinition({
      procedure: 'tiny',
      version: '9.0.0',
      hash: definitions.get('tiny')!.hash,
      yaml: tiny('9.0.0'),
      ir: definitions.get('tiny')!.ir,
      deployedBy: 'files',
    });
    // An empty client: a route that reached Temporal would fail with a 500.
    api = createApi({
      client: {} as Client,
      store,
      definitions,
      taskQueue: 'none',
      singleAdminDeploy: false,
    });
    base = await api.listen(0);
  });

  afterAll(async () => {
    await api?.close();
  });

  const post = async (body: unknown): Promise<{ status: number; code: string }> => {
    const res = await fetch(`${base}/api/definitions`, {
      method: 'POST',
      headers: { cookie, [CSRF_HEADER]: csrf, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, code: ((await res.json()) as { code: string }).code };
  };

  it.each([
    [
      'an invalid draft',
      { yaml: tiny('9.1.0').replace('target: b', 'target: c') },
      422,
      'DEFINITION_INVALID',
    ],
    ['the deployed text again', { yaml: tiny('9.0.0') }, 409, 'ALREADY_DEPLOYED'],
    ['a lower version', { yaml: tiny('8.0.0') }, 409, 'VERSION_NOT_NEWER'],
    [
      'a text over 100 kB',
      { yaml: tiny('9.1.0') + '#'.repeat(MAX_PROPOSAL_BYTES) },
      413,
      'PROPOSAL_TOO_LARGE',
    ],
  ])('%s', async (_, body, status, code) => {
    expect(await post(body)).toEqual({ status, code });
  });

  it('custodia start refuses a definition change (its diff and proofs are the deploy route’s)', async () => {
    const { startCommand } = await import('../../worker/cli/instance-commands.ts');
    await expect(startCommand(['definition_change'])).rejects.toThrow(PROPOSED_THROUGH_DEPLOY);
  });

  it('GET /api/definitions says whether one admin deploys at once', async () => {
    const res = await fetch(`${base}/api/definitions`, { headers: { cookie } });
    expect(((await res.json()) as { deployment: unknown }).deployment).toEqual({ singleAdmin: false });
  });
});
