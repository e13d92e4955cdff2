/**
 * The assessor's evidence pack end to end (issue 17 item 4): confidential-file-access instances of
 * two clients run on the real Temporal server with a worker writing to an embedded records store;
 * then `custodia evidence` (a child process, as an operator runs it) makes the pack of one client,
 * `custodia evidence verify` passes on it, and fails — exit 1, naming the segment — after one
 * byte of the zip's audit segment is changed. The export is an audit record of the client.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcedure } from '../../worker/instances.ts';
import { loadDeployedDefinitions, runWorker, type RunningWorker } from '../../worker/process.ts';
import { openStore } from '../../worker/records/store.ts';
import { REPO_ROOT } from '../../worker/settings.ts';
import type { Actor } from '../../workflows/core/ir.ts';
import { shipped } from '../scenarios/scenario.ts';
import { pdfText } from '../support/pdf-text.ts';
import { eventually, sendEvent, sharedBundle, testConfig } from './harness.ts';
import { tempDir } from '../temp-dir.ts';

const run = promisify(execFile);
const tmp = tempDir('custodia-evidence-int-');
const recordsDir = path.join(tmp, 'records');
const out = path.join(tmp, 'pack');
let running: RunningWorker | undefined;
const ids: Record<string, string> = {};

const ann = { id: 'ann', roles: ['project_staff'] };
const gail = { id: 'gail', roles: ['general_affairs_head'] };
const ada = { id: 'ada', roles: ['quality_administrator'] };
const rita = { id: 'rita', roles: ['application_reviewer'] };
const quinn = { id: 'quinn', roles: ['quality_manager'] };
const gus = { id: 'gus', roles: ['general_manager'] };

async function custodia(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [path.join(REPO_ROOT, 'bin/custodia.mjs'), ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, DATABASE_URL: '', CUSTODIA_RECORDS_DIR: recordsDir },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  const { config, address } = testConfig();
  const definitions = loadDeployedDefinitions(shipped('file_access', 'disclosure', 'violation_case'));
  running = await runWorker(config, {
    address,
    records: recordsDir,
    definitions,
    deployedBy: 'release-admin',
    bundle: sharedBundle(),
  });
  const def = definitions.get('file_access')!;
  const drive = async (client: string, fileId: string): Promise<string> => {
    const id = await startProcedure(running!.client, def, {
      context: { client },
      starter: ann,
      taskQueue: config.taskQueue,
    });
    const events: [string, Actor, Record<string, unknown>?][] = [
      [
        'SUBMIT',
        ann,
        { file_id: fileId, purpose: 'surveillance audit preparation', access_kind: 'view', window_days: 3 },
      ],
      ['APPROVE', gail, { note: 'for the audit only' }],
      ['ISSUE', ada, { copies_issued: 0 }],
      ['RETURN', ada, { copies_returned: 0 }],
    ];
    for (const [type, actor, data] of events)
      await sendEvent(running!.client, id, { type, actor, ...(data ? { data: data as never } : {}) });
    await eventually(async () => (await running!.store.auditOf(id)).length === 5);
    return id;
  };
  ids.acme = await drive('acme', 'F-2026-118');
  ids.globex = await drive('globex', 'GLOBEX-F-7');
  // A disclosure required by law: approved twice, the client notified before the release.
  const disclosure = definitions.get('disclosure')!;
  ids.disclosure = await startProcedure(running.client, disclosure, {
    context: { client: 'acme' },
    starter: rita,
    taskQueue: config.taskQueue,
  });
  const steps: [string, Actor, Record<string, unknown>?][] = [
    [
      'SUBMIT',
      rita,
      {
        request_ref: 'REQ-88',
        recipient: 'Provincial Market Regulation Bureau',
        recipient_kind: 'regulator',
        scope: 'product safety investigation',
        items: ['test report TR-1'],
        basis: 'legal',
        authority: 'Provincial Market Regulation Bureau',
        legal_instrument: 'Product Quality Law art. 18',
      },
    ],
    ['APPROVE', quinn],
    ['GM_APPROVE', gus],
    ['NOTIFY_CLIENT', ada, { notice_ref: 'N-12', method: 'registered_mail', sent_on: '2026-03-08' }],
    [
      'RELEASE',
      ada,
      { items_released: ['test report TR-1'], released_on: '2026-03-10', method: 'paper_copy' },
    ],
  ];
  for (const [type, actor, data] of steps)
    await sendEvent(running.client, ids.disclosure, {
      type,
      actor,
      ...(data ? { data: data as never } : {}),
    });
  await eventually(async () => (await running!.store.auditOf(ids.disclosure!)).length === 6);
  await running.shutdown(); // the embedded store is one process's: the CLI opens it next
  running = undefined;
}, 120_000);

afterAll(async () => {
  await running?.shutdown();
  rmSync(tmp, { recursive: true, force: true });
});

describe('custodia evidence', () => {
  it('[4.2.2] makes the pack of one client, which verifies offline and fails after one byte of its segment changes', async () => {
    const made = await custodia('evidence', '--client', 'acme', '--lang', 'en', '--out', out);
    expect(made.code, made.stderr).toBe(0);
    const files = readdirSync(out).sort();
    expect(files).toHaveLength(2);
    const [pdfName, zipName] = files as [string, string];
    expect(pdfName).toMatch(/^evidence-acme-start-\d{4}-\d{2}-\d{2}\.pdf$/);
    expect(zipName).toBe(pdfName.replace(/\.pdf$/, '.zip'));
    expect(made.stderr).toMatch(/2 instance\(s\), 4 log entr\(ies\)/);

    const text = pdfText(readFileSync(path.join(out, pdfName)));
    for (const s of [
      'acme',
      ids.acme!,
      ids.disclosure!,
      'lending_log',
      'F-2026-118',
      'disclosure_log',
      'disclosure_notice_log',
      'N-12',
      'Clause coverage',
      'Invariants proved',
    ])
      expect(text).toContain(s);
    expect(text).not.toContain(ids.globex!);
    expect(text).not.toContain('GLOBEX-F-7');

    const ok = await custodia('evidence', 'verify', out);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(
      /✓ audit segment: \d+ records at positions \d+–\d+ link \(\d+ whole and recomputed, \d+ sealed\)/,
    );
    expect(ok.stdout).toContain('evidence pack intact');

    const zipFile = path.join(out, zipName);
    const zip = readFileSync(zipFile);
    const at = zip.indexOf('F-2026-118');
    expect(at).toBeGreaterThan(0); // the segment is stored uncompressed in the zip
    zip[at + 2] = '3'.charCodeAt(0); // F-2026-118 → F-3026-118
    writeFileSync(zipFile, zip);
    const bad = await custodia('evidence', 'verify', out);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ manifest: audit-segment\.jsonl: SHA-256/);
    expect(bad.stdout).toMatch(/✗ audit segment: record \d+: content does not match its hash/);
    expect(bad.stderr).toMatch(/evidence pack FAILED — manifest: audit-segment\.jsonl/);

    // The export is in the audit chain, as a record of the client.
    const store = await openStore({ dataDir: recordsDir });
    try {
      const [record] = (await store.audit({ kind: 'export', client: 'acme' })).slice(-1);
      expect(record).toMatchObject({ subject: 'client:acme', body: { what: 'evidence', format: 'pdf+zip' } });
      expect(record!.actorId).toMatch(/^cli:/);
    } finally {
      await store.close();
    }
  }, 180_000);

  it('refuses bad usage before touching anything', async () => {
    const noClient = await custodia('evidence', '--out', out);
    expect([noClient.code, noClient.stderr]).toEqual([
      2,
      expect.stringContaining('evidence needs --client C'),
    ]);
    const badDate = await custodia('evidence', '--client', 'acme', '--from', 'March', '--out', out);
    expect([badDate.code, badDate.stderr]).toEqual([2, expect.stringContaining('"March" is not a date')]);
    const missing = await custodia('evidence', 'verify', path.join(tmp, 'nothing-here'));
    expect(missing.code).toBe(1);
  }, 60_000);
});
