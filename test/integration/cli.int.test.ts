/**
 * The `custodia` CLI as a user runs it (a child process), against the test server and a worker.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { openStore } from '../../worker/records/store.ts';
import { ENGINE_FIXTURES, startHarness, type Harness } from './harness.ts';
import { tempDir } from '../temp-dir.ts';

const run = promisify(execFile);
let h: Harness;
let recordsDir: string;
let definitionsDir: string;

function custodia(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return custodiaWith({}, ...args);
}

async function custodiaWith(
  extraEnv: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [path.join(REPO_ROOT, 'bin/custodia.mjs'), ...args],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: h.address,
          CUSTODIA_TASK_QUEUE: h.config.taskQueue,
          CUSTODIA_DEFINITIONS: definitionsDir,
          CUSTODIA_RECORDS_DIR: recordsDir,
          ...extraEnv,
        },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  // `send` acts as a directory user: li and wang are in the records store the CLI opens. Opening
  // the embedded store takes a CLI process seconds, so the CLI starts the engine fixtures with
  // review's 4 s expiry made 60 s (the instance must still be deciding after three sends).
  const tmp = tempDir('custodia-cli-');
  recordsDir = path.join(tmp, 'records');
  definitionsDir = path.join(tmp, 'definitions');
  mkdirSync(definitionsDir);
  for (const file of readdirSync(ENGINE_FIXTURES)) {
    const text = readFileSync(path.join(ENGINE_FIXTURES, file), 'utf8');
    writeFileSync(path.join(definitionsDir, file), text.replace('delay: PT4S', 'delay: PT60S'));
  }
  const store = await openStore({ dataDir: recordsDir });
  try {
    const password = 'correct horse battery staple';
    await store.createUser({ id: 'li', displayName: 'Li Na', roles: ['project_staff'], password }, 'test');
    await store.createUser({ id: 'wang', displayName: 'Wang', roles: ['quality_manager'], password }, 'test');
  } finally {
    await store.close();
  }
  h = await startHarness([ENGINE_FIXTURES]);
});
afterAll(async () => {
  await h?.close();
  rmSync(path.dirname(recordsDir), { recursive: true, force: true });
});

describe('custodia CLI', () => {
  it('validate: passes valid definitions, and reports each problem as file:line:col CODE message', async () => {
    const ok = await custodia('validate', 'test/fixtures/engine');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('2 definition(s) valid');

    const bad = await custodia(
      'validate',
      'test/fixtures/invalid/unknown-target.yaml',
      'test/fixtures/invalid/graph.yaml',
    );
    expect(bad.code).toBe(1);
    const lines = bad.stderr.trim().split('\n').slice(0, -1);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines)
      expect(line).toMatch(/^test\/fixtures\/invalid\/[a-z-]+\.yaml:\d+:\d+ PROC_[A-Z_]+ \S/);
    expect(bad.stderr).toMatch(/unknown-target\.yaml:\d+:\d+ PROC_UNKNOWN_TARGET/);
  });

  it('verify: a broken definition fails with its counterexample path', async () => {
    const r = await custodia('verify', 'test/fixtures/verify/broken-must_pass.yaml');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/broken-must_pass\.yaml:\d+:\d+ PROC_INVARIANT_VIOLATED/);
    expect(r.stderr).toContain('counterexample');
  });

  it('start + send take an instance to its final state; refusals exit 1 with the reason; status and list', async () => {
    const started = await custodia(
      'start',
      'engine_review',
      '--input',
      '{"client":"acme"}',
      '--as',
      'li:project_staff',
    );
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    expect(id).toMatch(/^engine_review-/);

    let r = await custodia(
      'send',
      id,
      'SUBMIT',
      '--data',
      '{"purpose":"cli run"}',
      '--as',
      'li:project_staff',
    );
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toContain('submitted');

    r = await custodia('send', id, 'APPROVE', '--data', '{"window_hours":8}', '--as', 'li:project_staff');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refused (DUTY_CONFLICT)');

    r = await custodia('send', id, 'APPROVE', '--data', '{not json', '--as', 'wang:quality_manager');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--data is not valid JSON');

    const listed = await custodia('list', '--procedure', 'engine_review', '--state', 'submitted', '--json');
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { workflowId: string }[]).map((x) => x.workflowId)).toContain(id);

    r = await custodia('send', id, 'REJECT', '--as', 'wang:quality_manager');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rejected (finished)');

    const status = await custodia('status', id);
    const snap = JSON.parse(status.stdout) as { leaves: string[]; log: { event: string }[] };
    expect(snap.leaves).toEqual(['rejected']);
    // (The definition's 2 s reminder may have fired in between: people's events are these.)
    expect(snap.log.map((l) => l.event).filter((e) => !e.startsWith('after '))).toEqual([
      '$start',
      'SUBMIT',
      'REJECT',
    ]);
  });

  it('send checks --as against the directory while the product has the embedded store open', async () => {
    const started = await custodia('start', 'engine_review', '--input', '{"client":"acme"}');
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    // As under `npm start`: a long-lived process has the embedded store open (the CLI shares its
    // server). No API runs: the CLI checks the directory itself, it has no other way.
    const held = await openStore({ dataDir: recordsDir, embeddedRole: 'service' });
    try {
      let r = await custodia(
        'send',
        id,
        'SUBMIT',
        '--data',
        '{"purpose":"while running"}',
        '--as',
        'li:project_staff',
      );
      expect(r).toMatchObject({ code: 0 });
      expect(r.stdout).toContain('submitted');
      // Still only directory users with the roles they hold.
      r = await custodia('send', id, 'REJECT', '--as', 'li:quality_manager');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('li does not hold the role(s) quality_manager');
      r = await custodia('send', id, 'REJECT', '--as', 'ghost:quality_manager');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('no user "ghost"');
      r = await custodia('send', id, 'REJECT', '--as', 'wang:quality_manager');
      expect(r, r.stderr).toMatchObject({ code: 0 });
    } finally {
      await held.close();
    }
    const status = await custodia('status', id);
    expect((JSON.parse(status.stdout) as { leaves: string[] }).leaves).toEqual(['rejected']);
  });

  it('usage errors exit 2', async () => {
    expect((await custodia('frobnicate')).code).toBe(2);
    expect((await custodia('send', 'x', 'GO')).stderr).toContain('--as USER:ROLE');
    expect((await custodia('start', 'no_such_procedure')).code).toBe(1);
    // A field a start may not set: refused by name, exit 1, nothing started.
    const preset = await custodia('start', 'engine_review', '--input', '{"client":"acme","approver":"bob"}');
    expect(preset.code).toBe(1);
    expect(preset.stderr).toContain('"approver" is not an input field of engine_review');
  });
});
