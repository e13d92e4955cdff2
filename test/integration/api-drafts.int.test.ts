/**
 * Drafts cannot freeze the API (security issue, item 1), against the real stack (a harness worker
 * on the dev server, its embedded records store, the API on a free port): validate and deploy are
 * for admins; each costly draft of the issue is answered within seconds — refused as invalid when
 * its cost is visible in its text (regexes that backtrack, loops nested deep), `422
 * DEFINITION_TOO_COSTLY` when it runs out of its thread's budget (a proof over 2^17
 * configurations), `422 YAML_ALIAS_BUDGET` for an alias bomb — while `GET /api/me` keeps answering
 * within 200 ms; a deployed catastrophic `pattern` checks start input in linear time; and validate
 * runs the start-target check.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, SESSION_COOKIE, type Api } from '../../worker/api/server.ts';
import type { Role } from '../../worker/records/types.ts';
import {
  CASE,
  MATCHES_DRAFT,
  NESTED_DRAFT,
  parallelDraft,
  PATTERN_DRAFT,
} from '../fixtures/costly-drafts.ts';
import { ENGINE_FIXTURES, startHarness, type Harness } from './harness.ts';
import { expectServingThreadFree, whileProbing as probing, type Probed } from '../support/serving-thread.ts';

const PASSWORD = 'correct horse battery';
const REVIEW = readFileSync(path.join(ENGINE_FIXTURES, 'review.yaml'), 'utf8');

interface Session {
  cookie: string;
  csrf: string;
}
interface Res {
  status: number;
  body: Record<string, unknown>;
  text: string;
  ms: number;
}

let h: Harness;
let api: Api;
let base: string;
let ada: Session; // admin
let alice: Session; // project_staff
const serverErrors: unknown[] = [];

async function call(method: string, url: string, session?: Session, body?: unknown): Promise<Res> {
  const headers: Record<string, string> = {};
  if (session) {
    headers.cookie = `${SESSION_COOKIE}=${session.cookie}`;
    headers['x-csrf-token'] = session.csrf;
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  const t0 = performance.now();
  const res = await fetch(base + url, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, text, ms };
}

async function login(id: string): Promise<Session> {
  const res = await fetch(`${base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, password: PASSWORD }),
  });
  const body = (await res.json()) as { csrfToken: string };
  expect(res.status).toBe(201);
  const set = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '';
  return { cookie: /^[^=]+=([^;]*)/.exec(set)?.[1] ?? '', csrf: body.csrfToken };
}

/**
 * `request()` answered while alice's `GET /api/me` is probed (test/support/serving-thread.ts), the
 * answer due within `boundMs` (measured again, as a slow probe is, when it was not).
 */
function whileProbing(request: () => Promise<Res>, boundMs = 3000): Promise<Probed<Res>> {
  return probing(
    request,
    () => call('GET', '/api/me', alice),
    (res) => res.ms >= boundMs,
  );
}

/** A list of 10,000 items, then an alias repeating it (quadratic to expand naively). */
function aliasDraft(): string {
  const items = Array.from({ length: 10_000 }, (_, i) => `    - ${i}`).join('\n');
  const refs = Array.from({ length: 200 }, (_, i) => `  r${i}: *big`).join('\n');
  return `${CASE}x_big:\n  list: &big\n${items}\nx_refs:\n${refs}\n`;
}

beforeAll(async () => {
  h = await startHarness([ENGINE_FIXTURES]);
  const store = h.running.store!;
  const user = (id: string, roles: Role[], clients: string[] = []) =>
    store.createUser({ id, displayName: id, roles, clients, password: PASSWORD }, 'test');
  await user('ada', ['admin']);
  await user('alice', ['project_staff'], ['acme']);
  api = createApi({
    client: h.client,
    store,
    definitions: h.definitions,
    taskQueue: h.config.taskQueue,
    onError: (err) => serverErrors.push(err),
    draftPool: { timeoutMs: 1500 },
    // Deploys at once (single-admin mode): the four-eyes flow is proposals.int.test.ts.
    singleAdminDeploy: true,
  });
  base = await api.listen(0);
  [ada, alice] = await Promise.all([login('ada'), login('alice')]);
  // The draft thread starts on first use (its loader and the core take a moment): warm it.
  const warm = await call('POST', '/api/definitions/validate', ada, { yaml: CASE });
  expect(warm.status, warm.text).toBe(200);
}, 120_000);

afterAll(async () => {
  expect(serverErrors).toEqual([]);
  await api?.close();
  await h?.close();
});

describe('drafts: who may send them', () => {
  it('validate and deploy are for admins: 403 for everyone else', async () => {
    for (const url of ['/api/definitions/validate', '/api/definitions']) {
      const res = await call('POST', url, alice, { yaml: CASE });
      expect(res.status, res.text).toBe(403);
      expect(res.body.code).toBe('NOT_ADMIN');
    }
  });
});

describe('drafts: every costly draft is a 4xx or an invalid draft within seconds, and /api/me stays quick', () => {
  const invalid: [string, string, string][] = [
    ['a schema pattern that backtracks, with a default it rejects', PATTERN_DRAFT, 'PROC_BAD_FIELD_SCHEMA'],
    ['a guard matching a regex that backtracks', MATCHES_DRAFT, 'PROC_EXPRESSION_COST'],
    ['five nested comprehensions over 40 elements', NESTED_DRAFT, 'PROC_EXPRESSION_COST'],
  ];
  for (const [name, yaml, code] of invalid)
    it(`${name}: reported invalid (${code})`, async () => {
      const probed = await whileProbing(() =>
        call('POST', '/api/definitions/validate', ada, { yaml, file: 'costly.yaml' }),
      );
      const { res } = probed;
      expect(res.status, res.text).toBe(200);
      expect(res.body.valid).toBe(false);
      expect((res.body.diagnostics as { code: string }[]).map((d) => d.code)).toContain(code);
      expect(res.ms).toBeLessThan(3000);
      expectServingThreadFree(probed);
      // Deploy refuses it the same way (422 DEFINITION_INVALID).
      const deployed = await call('POST', '/api/definitions', ada, { yaml, file: 'costly.yaml' });
      expect(deployed.status, deployed.text).toBe(422);
      expect(deployed.body.code).toBe('DEFINITION_INVALID');
    });

  it('17 parallel regions (a proof over 2^17 configurations): 422 DEFINITION_TOO_COSTLY (time)', async () => {
    for (const url of ['/api/definitions/validate', '/api/definitions']) {
      const probed = await whileProbing(() =>
        call('POST', url, ada, { yaml: parallelDraft(17), file: 'parallel.yaml' }),
      );
      const { res } = probed;
      expect(res.status, res.text).toBe(422);
      expect(res.body).toMatchObject({
        code: 'DEFINITION_TOO_COSTLY',
        resource: 'time',
        detail: expect.stringMatching(/^the proof of its invariants exceeded 1.5 s/),
      });
      expect(res.ms).toBeLessThan(3000);
      expectServingThreadFree(probed);
      // The pool goes on with a fresh thread.
      const after = await call('POST', '/api/definitions/validate', ada, { yaml: CASE });
      expect(after.body.valid).toBe(true);
    }
  });

  it('an alias repeating a 10,000-item list: 422 YAML_ALIAS_BUDGET', async () => {
    const probed = await whileProbing(() =>
      call('POST', '/api/definitions/validate', ada, { yaml: aliasDraft() }),
    );
    const { res } = probed;
    expect(res.status, res.text).toBe(422);
    expect((res.body.diagnostics as { code: string }[])[0]?.code).toBe('YAML_ALIAS_BUDGET');
    expect(res.ms).toBeLessThan(3000);
    expectServingThreadFree(probed);
  });
});

describe('drafts: what validate checks', () => {
  it('reports a draft whose start action names an unknown procedure as invalid', async () => {
    const yaml = REVIEW.replace('start: { procedure: engine_case', 'start: { procedure: engine_nowhere');
    expect(yaml).not.toBe(REVIEW);
    const res = await call('POST', '/api/definitions/validate', ada, { yaml, file: 'review.yaml' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.valid).toBe(false);
    expect(res.body.diagnostics).toEqual([
      expect.objectContaining({ code: 'PROC_UNKNOWN_PROCEDURE', file: 'review.yaml', line: 92 }),
    ]);
    // With the procedure it starts known, the same draft is valid.
    const ok = await call('POST', '/api/definitions/validate', ada, { yaml: REVIEW, file: 'review.yaml' });
    expect(ok.body.valid).toBe(true);
  });

  it('a deployed pattern that would backtrack checks start input in linear time', async () => {
    const yaml = CASE.replace('id: engine_case', 'id: engine_pattern').replace(
      '  reason: { type: string, input: true }\n',
      () =>
        "  reason: { type: string, input: true }\n  code: { type: string, input: true, schema: { pattern: '^(a+)+$' } }\n",
    );
    const deployed = await call('POST', '/api/definitions', ada, { yaml, file: 'pattern.yaml' });
    expect(deployed.status, deployed.text).toBe(201);
    const probed = await whileProbing(
      () =>
        call('POST', '/api/instances', ada, {
          procedure: 'engine_pattern',
          input: { client: 'acme', code: `${'a'.repeat(40)}!` },
        }),
      1000,
    );
    const { res } = probed;
    // The input is checked against the schema first: refused, in linear time.
    expect(res.status, res.text).toBe(422);
    expect(res.body.code).toBe('INVALID_INPUT');
    expect(res.ms).toBeLessThan(1000);
    expectServingThreadFree(probed);
  });
});
