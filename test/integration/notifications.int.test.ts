/**
 * Notifications on PostgreSQL, as the service role (the owner migrates to schema 3 and grants):
 * deliveries fanned out in the commit, read marks, contact and preferences, and two delivery
 * processes claiming the same outbox at once — each row claimed by one of them only, every e-mail
 * delivered once to a real SMTP server.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { deliverDue } from '../../worker/notifications/delivery.ts';
import { smtpSender } from '../../worker/notifications/mailer.ts';
import { notificationSettings } from '../../worker/notifications/settings.ts';
import { serviceRoleGrants } from '../../worker/records/postgres-roles.ts';
import { openPostgresClient } from '../../worker/records/sql.ts';
import { createRecordsStore, openStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { addStaff, notifyingCommit, STAFF } from '../unit/notifications-fixture.ts';
import { startSmtpSink } from '../unit/smtp-sink.ts';

const postgresUrl = inject('postgresUrl');
if (!postgresUrl && process.env.CI)
  throw new Error(`CI is set but there is no PostgreSQL server: ${inject('postgresSkipReason')}`);

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A new database owned by a new owner role, migrated by it, and a store as the service role. */
async function serviceStores(n: number): Promise<RecordsStore[]> {
  const suffix = randomBytes(5).toString('hex');
  const [owner, service, name] = [`cust_own_${suffix}`, `cust_app_${suffix}`, `custodia_notify_${suffix}`];
  const admin = await openPostgresClient(postgresUrl!, { max: 1 });
  await admin.exec(`CREATE ROLE ${owner} LOGIN; CREATE ROLE ${service} LOGIN`);
  await admin.exec(`CREATE DATABASE ${name} OWNER ${owner}`);
  cleanups.push(async () => {
    await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.exec(`DROP ROLE IF EXISTS ${service}; DROP ROLE IF EXISTS ${owner}`);
    await admin.close();
  });
  const urlAs = (role: string): string => {
    const u = new URL(postgresUrl!);
    u.username = role;
    u.pathname = `/${name}`;
    return u.toString();
  };
  await (await openStore({ databaseUrl: urlAs(owner) })).close();
  const ownerSql = await openPostgresClient(urlAs(owner), { max: 1 });
  await ownerSql.exec(serviceRoleGrants(service));
  await ownerSql.close();
  const stores: RecordsStore[] = [];
  for (let i = 0; i < n; i++) {
    const store = await createRecordsStore(await openPostgresClient(urlAs(service)));
    cleanups.push(() => store.close());
    stores.push(store);
  }
  return stores;
}

describe.skipIf(!postgresUrl)('notifications on PostgreSQL (service role)', () => {
  it('fans out, marks read, and two senders share the outbox without sending anything twice', async () => {
    const [a, b] = (await serviceStores(2)) as [RecordsStore, RecordsStore];
    await addStaff(
      a,
      STAFF.filter((u) => u.id !== 'root'),
    );
    for (let i = 1; i <= 15; i++)
      await a.commit(notifyingCommit(`wf-pg-${i}`, 1, { client: i % 3 ? 'acme' : 'globex' }), []);

    const alice = (await a.getUser('alice'))!;
    const bob = (await b.getUser('bob'))!;
    const mine = await b.notificationsFor(alice);
    expect(mine.unread).toBe(10);
    expect(mine.notifications.every((n) => n.client === 'acme')).toBe(true);
    expect((await a.notificationsFor(bob)).notifications.every((n) => n.client === 'globex')).toBe(true);
    expect(await a.markNotificationsRead('alice', { ids: [mine.notifications[0]!.id] })).toBe(1);
    expect(await b.markNotificationsRead('alice', { all: true })).toBe(9);
    await a.setNotificationPreferences('bob', { message: 'in_app' });
    expect(await b.notificationPreferences('bob')).toMatchObject({ message: 'in_app' });
    expect((await a.verifyAudit()).problems).toEqual([]);

    // alice: 10, carol: 15 (every client) — erin has no address, dave is disabled, bob chose in-app after.
    const expected = 10 + 15 + 5;
    const sink = await startSmtpSink();
    cleanups.push(() => sink.close());
    const settings = notificationSettings({
      CUSTODIA_SMTP_HOST: '127.0.0.1',
      CUSTODIA_SMTP_PORT: String(sink.port),
      CUSTODIA_PUBLIC_URL: 'https://custodia.example.cn',
    });
    const senders = [smtpSender(settings.smtp!), smtpSender(settings.smtp!)];
    const small = { ...settings, batch: 4 };
    const [ra, rb] = await Promise.all([
      deliverDue(a, senders[0]!, small),
      deliverDue(b, senders[1]!, small),
    ]);
    for (const s of senders) s.close();
    expect(ra.sent + rb.sent).toBe(expected);
    expect(ra.sent).toBeGreaterThan(0);
    expect(rb.sent).toBeGreaterThan(0);
    expect(sink.received).toHaveLength(expected);
    expect(new Set(sink.received.map((m) => m.messageId)).size).toBe(expected);
    expect(await a.unsentOutbox()).toEqual([]);
  });
});
