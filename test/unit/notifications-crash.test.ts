/**
 * Killing the delivering process while e-mails are queued loses none and sends none twice: the
 * sender runs in a child process against the embedded store on disk and a real SMTP server that
 * holds each message 100 ms before accepting it; the child is SIGKILLed mid-batch, a second one
 * takes over once the first one's lease has expired.
 *
 * What "none twice" means, honestly: a row is marked sent after the server accepted its message,
 * so the one message in flight at the kill (the server may have taken it, the sender never heard
 * 250) is sent again — with the same Message-ID, by which mailboxes recognise the copy. So the
 * mailbox (messages by Message-ID) holds each exactly once; the raw SMTP log may hold that one
 * message twice, never more.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../worker/records/store.ts';
import { addStaff, notifyingCommit, STAFF } from './notifications-fixture.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';
import { tempDir } from '../temp-dir.ts';

const dir = tempDir('custodia-notify-crash-');
let sink: SmtpSink | undefined;
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await sink?.close();
  rmSync(dir, { recursive: true, force: true });
});

function startChild(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/unit/notifications-deliver-child.ts'], {
    env: {
      ...process.env,
      CUSTODIA_TEST_DATA_DIR: dir,
      CUSTODIA_SMTP_HOST: '127.0.0.1',
      CUSTODIA_SMTP_PORT: String(port),
      CUSTODIA_PUBLIC_URL: 'https://custodia.example.cn',
      CUSTODIA_NOTIFY_POLL_MS: '200',
      CUSTODIA_NOTIFY_LEASE_MS: '8000',
      // Generous against a loaded machine; a send that still times out is retried 0.5 s later.
      CUSTODIA_NOTIFY_SEND_TIMEOUT_MS: '3000',
      CUSTODIA_NOTIFY_BACKOFF_MS: '500',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`delivery child exited early (${code})`)));
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child);
    });
  });
}

const exited = (c: ChildProcess): Promise<void> =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => c.once('exit', () => r()));

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a delivering process killed mid-batch', () => {
  it('loses no e-mail and delivers each exactly once to the mailbox', async () => {
    const store = await openStore({ dataDir: dir });
    await addStaff(
      store,
      STAFF.filter((u) => ['alice', 'carol', 'erin'].includes(u.id)),
    );
    for (let i = 1; i <= 12; i++) await store.commit(notifyingCommit(`wf-crash-${i}`, 1), []);
    await store.close();
    const expected = 12 * 2; // alice and carol (erin has no address)

    sink = await startSmtpSink({ delayMs: 100 });
    const first = await startChild(sink.port);
    first.removeAllListeners('exit');
    await until(() => sink!.received.length >= 5, 30_000);
    first.kill('SIGKILL');
    await exited(first);
    const atKill = sink.received.length;
    expect(atKill, 'the first sender was killed before it finished').toBeLessThan(expected);

    const second = await startChild(sink.port);
    second.removeAllListeners('exit');
    const distinct = (): number => new Set(sink!.received.map((m) => m.messageId)).size;
    try {
      await until(() => distinct() === expected, 45_000);
    } catch (err) {
      second.kill('SIGKILL');
      await exited(second);
      const store = await openStore({ dataDir: dir });
      const unsent = await store.unsentOutbox();
      await store.close();
      throw new Error(
        `${(err as Error).message}: ${distinct()} of ${expected} arrived (${atKill} before the kill); unsent: ${JSON.stringify(unsent)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 1000)); // anything more would show up now
    second.kill('SIGTERM');
    await exited(second);

    const counts = new Map<string, number>();
    for (const m of sink.received) counts.set(m.messageId, (counts.get(m.messageId) ?? 0) + 1);
    const story = `received at kill ${atKill}, in all ${sink.received.length}, counts ${JSON.stringify([...counts.values()])}`;
    expect(counts.size, story).toBe(expected);
    const repeated = [...counts.values()].filter((n) => n > 1);
    // At most the one message in flight when the first process died, and only once more.
    expect(repeated.length, story).toBeLessThanOrEqual(1);
    expect(
      repeated.every((n) => n === 2),
      story,
    ).toBe(true);
    expect(sink.received.length, story).toBeLessThanOrEqual(expected + 1);

    const reopened = await openStore({ dataDir: dir });
    try {
      expect(await reopened.unsentOutbox()).toEqual([]);
    } finally {
      await reopened.close();
    }
  }, 120_000);
});
