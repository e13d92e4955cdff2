/**
 * Security item 3, "the engine believes whatever actor it is sent": on the real dev server, the
 * engine itself refuses an actor it cannot authenticate — whatever client sends the update — and
 * a refused attempt leaves nothing in history or the audit log. A directory user acts through
 * `custodia send`, or through any Temporal client (the stock `temporal` CLI here) with an
 * assertion from `custodia token`.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { EventRejected, getSnapshot, sendEvent as sendUnsigned } from '../../worker/instances.ts';
import { openStore } from '../../worker/records/store.ts';
import type { SignedEventInput } from '../../workflows/api.ts';
import { ENGINE_FIXTURES, eventually, historyLength, startHarness, type Harness } from './harness.ts';
import { tempDir } from '../temp-dir.ts';

const run = promisify(execFile);
let h: Harness;
let recordsDir: string;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(file: string, args: string[]): Promise<Ran> {
  try {
    const { stdout, stderr } = await run(file, args, {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: h.address,
        CUSTODIA_TASK_QUEUE: h.config.taskQueue,
        CUSTODIA_DEFINITIONS: ENGINE_FIXTURES,
        CUSTODIA_RECORDS_DIR: recordsDir,
      },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as Ran;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const custodia = (...args: string[]): Promise<Ran> =>
  exec(process.execPath, [path.join(REPO_ROOT, 'bin/custodia.mjs'), ...args]);

/** Send the `event` update as a bare Temporal client would: exactly this argument, nobody signs. */
async function rawRefusal(workflowId: string, event: SignedEventInput): Promise<EventRejected> {
  const err = await sendUnsigned(h.client, workflowId, event).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EventRejected);
  return err as EventRejected;
}

/** Start an instance as li; wait for its start record in the audit log. */
async function started(): Promise<string> {
  const id = await h.start('engine_review', { client: 'acme' }, { id: 'li', roles: ['project_staff'] });
  await eventually(async () => (await h.running.store.auditOf(id)).length === 1);
  return id;
}

/** The history length once the start's commit has finished (no event for half a second). */
async function settledHistory(id: string): Promise<number> {
  let last = -1;
  return eventually(async () => {
    const now = await historyLength(h.client, id);
    const settled = now === last;
    last = now;
    if (!settled) await new Promise((r) => setTimeout(r, 500));
    return settled ? now : undefined;
  });
}

/** Nothing entered the instance's history, log or audit trail since `before`. */
async function expectNoTrace(id: string, before: number): Promise<void> {
  expect(await historyLength(h.client, id)).toBe(before);
  expect((await getSnapshot(h.client, id)).log.map((r) => r.event)).toEqual(['$start']);
  expect(await h.running.store.auditOf(id)).toHaveLength(1);
}

beforeAll(async () => {
  recordsDir = tempDir('custodia-identity-');
  const store = await openStore({ dataDir: recordsDir });
  try {
    const password = 'correct horse battery staple';
    await store.createUser({ id: 'li', displayName: 'Li Na', roles: ['project_staff'], password }, 'test');
    await store.createUser(
      { id: 'zhao', displayName: 'Zhao Lei', roles: ['quality_manager'], password },
      'test',
    );
    await store.createUser({ id: 'gone', displayName: 'Gone', roles: ['quality_manager'], password }, 'test');
    await store.setDisabled('gone', true, 'test');
  } finally {
    await store.close();
  }
  h = await startHarness([ENGINE_FIXTURES]);
});
afterAll(async () => {
  await h?.close();
  rmSync(recordsDir, { recursive: true, force: true });
});

describe('the engine authenticates actors', () => {
  it('custodia send acts only as a directory user holding the role; the attack leaves no trace', async () => {
    const id = await started();
    const before = await settledHistory(id);
    const data = ['--data', '{"purpose":"self-approval"}'];

    let r = await custodia('send', id, 'SUBMIT', ...data, '--as', 'ghost:project_staff');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('refused: no user "ghost" in the directory');
    r = await custodia('send', id, 'SUBMIT', ...data, '--as', 'li:quality_manager');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('li does not hold the role(s) quality_manager (holds project_staff)');
    r = await custodia('send', id, 'SUBMIT', ...data, '--as', 'gone:quality_manager');
    expect(r.stderr).toContain('user "gone" is disabled');
    await expectNoTrace(id, before);

    r = await custodia('send', id, 'SUBMIT', ...data, '--as', 'li:project_staff');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('submitted');
    const [, submit] = (await getSnapshot(h.client, id)).log;
    expect(submit).toMatchObject({ event: 'SUBMIT', actor: { id: 'li', roles: ['project_staff'] } });
    // (review's 2 s reminder may follow it into the audit log.)
    const audit = await eventually(async () => {
      const entries = await h.running.store.auditOf(id);
      return entries.length >= 2 ? entries : undefined;
    });
    expect(audit[1]).toMatchObject({
      seq: 1,
      actorId: 'li',
      body: { event: 'SUBMIT', actorRoles: ['project_staff'] },
    });
  });

  it('any other client is refused BAD_ACTOR without a valid assertion, before anything enters history', async () => {
    const id = await started();
    const before = await settledHistory(id);
    const event = {
      type: 'SUBMIT',
      data: { purpose: 'forged' },
      actor: { id: 'li', roles: ['project_staff'] },
    };

    let refused = await rawRefusal(id, event);
    expect(refused.code).toBe('BAD_ACTOR');
    expect(refused.message).toContain('an event needs an "assertion"');

    const li = (await custodia('token', '--as', 'li', '--workflow', id)).stdout.trim();
    // li's assertion, claimed for someone else or with a role li does not hold.
    refused = await rawRefusal(id, {
      ...event,
      actor: { id: 'zhao', roles: ['quality_manager'] },
      assertion: li,
    });
    expect(refused.message).toContain('the assertion is for user li, but the event’s actor is zhao');
    refused = await rawRefusal(id, {
      ...event,
      actor: { id: 'li', roles: ['quality_manager'] },
      assertion: li,
    });
    expect(refused.message).toContain('li does not hold the role(s) quality_manager');
    refused = await rawRefusal(id, { ...event, assertion: `${li.slice(0, -4)}AAAA` });
    expect(refused.message).toContain('signature does not verify');
    await expectNoTrace(id, before);
  });

  it('an assertion for instance A is refused on instance B', async () => {
    const a = await started();
    const b = await started();
    const before = await settledHistory(b);
    const token = (await custodia('token', '--as', 'li', '--workflow', a)).stdout.trim();
    const event = {
      type: 'SUBMIT',
      data: { purpose: 'replayed' },
      actor: { id: 'li', roles: ['project_staff'] },
    };
    const refused = await rawRefusal(b, { ...event, assertion: token });
    expect(refused).toMatchObject({
      code: 'BAD_ACTOR',
      message: `the assertion is for instance ${a}, not ${b}`,
    });
    await expectNoTrace(b, before);
  });

  it('custodia token refuses users the directory does not vouch for, and bad lifetimes', async () => {
    expect((await custodia('token', '--as', 'ghost')).stderr).toContain('no user "ghost"');
    expect((await custodia('token', '--as', 'li:quality_manager')).code).toBe(1);
    expect((await custodia('token', '--as', 'li', '--ttl', 'P2D')).code).toBe(2);
  });

  it('the stock temporal CLI acts as a directory user with an assertion from custodia token', async () => {
    const binary = inject('temporalBinary');
    if (!binary) return; // an external cluster without a local binary: covered by the raw client above
    const id = await started();
    const token = (await custodia('token', '--as', 'li')).stdout.trim();
    const input = (actor: object, assertion?: string): string =>
      JSON.stringify({
        type: 'SUBMIT',
        data: { purpose: 'stock cli' },
        actor,
        ...(assertion ? { assertion } : {}),
      });
    const temporal = (json: string): Promise<Ran> =>
      exec(binary, [
        'workflow',
        'update',
        'execute',
        '--address',
        h.address,
        '--workflow-id',
        id,
        '--name',
        'event',
        '--input',
        json,
      ]);

    const forged = await temporal(input({ id: 'li', roles: ['project_staff'] }));
    expect(forged.code).not.toBe(0);
    expect(`${forged.stdout}${forged.stderr}`).toContain('an event needs an "assertion"');

    const ok = await temporal(input({ id: 'li', roles: ['project_staff'] }, token));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('submitted');
    expect((await getSnapshot(h.client, id)).log[1]).toMatchObject({ event: 'SUBMIT', actor: { id: 'li' } });
  });
});
