/**
 * `custodia audit verify` — recompute the hash chain of the records store and compare it with the
 * signed checkpoints: exit 0 with `audit chain intact: N records`, or exit 1 listing every altered,
 * missing or reordered record, every checkpoint the log disagrees with (a rewritten history) and
 * every user change no audit record explains.
 * `custodia audit checkpoint` — sign the chain head now.
 * `custodia audit show <workflowId|subject> | --client C [--format text|csv|json]` — the records.
 * `custodia audit export [<subject>] [--client C] [--out FILE]` — entries, signed checkpoints and
 * the public key as one JSON document (the export itself is audited).
 * `custodia audit service-role <role>` — the PostgreSQL grants for a service role that cannot drop
 * the triggers (run them as the schema owner; see `records/postgres-roles.ts`).
 *
 * The store is DATABASE_URL (PostgreSQL) or the embedded one in CUSTODIA_RECORDS_DIR
 * (default data/records); the embedded one cannot be opened while `npm start` holds it.
 */
import { userInfo } from 'node:os';
import { writeFileSync } from 'node:fs';
import { auditExport, auditToCsv, auditToText } from '../records/export.ts';
import { serviceRoleGrants } from '../records/postgres-roles.ts';
import { exportRecord } from '../records/security-audit.ts';
import type { AuditVerification } from '../records/types.ts';
import { describeStore, recordsStoreOptions } from '../records/location.ts';
import { openStore, type RecordsStore } from '../records/store.ts';
import { parseOptions, UsageError } from './options.ts';

export async function auditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'verify':
      return verify(rest);
    case 'show':
      return show(rest);
    case 'checkpoint':
      return checkpoint(rest);
    case 'export':
      return exportAudit(rest);
    case 'service-role': {
      const { positionals } = parseOptions(rest, {});
      if (positionals.length !== 1) throw new UsageError('audit service-role needs the service role name');
      console.log(serviceRoleGrants(positionals[0]!));
      return 0;
    }
    default:
      throw new UsageError(
        sub === undefined
          ? 'audit needs a subcommand: verify, checkpoint, show or export'
          : `unknown audit subcommand "${sub}"`,
      );
  }
}

/** Open the configured store, run `fn`, close it. */
export async function withStore<T>(fn: (store: RecordsStore, where: string) => Promise<T>): Promise<T> {
  const opts = recordsStoreOptions();
  const store = await openStore(opts);
  try {
    return await fn(store, describeStore(opts));
  } finally {
    await store.close();
  }
}

async function verify(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { json: { type: 'boolean' } });
  if (positionals.length) throw new UsageError('audit verify takes no arguments');
  return withStore(async (store, where) => {
    const v = await store.verifyAudit();
    if (values.json) console.log(JSON.stringify({ store: where, ...v }, null, 2));
    else if (v.ok) {
      console.log(`audit chain intact: ${v.checked} records`);
      console.log(`head: position ${v.head.position}, hash ${v.head.hash} (${where})`);
    } else {
      console.log(
        `audit chain BROKEN: ${v.problems.length}${v.truncated ? '+' : ''} problem(s) in ${v.checked} records (${where})`,
      );
      for (const p of v.problems) console.log(`  ${p.kind} at ${p.position}: ${p.message}`);
      if (v.truncated) console.log('  … more problems not listed');
    }
    if (!values.json) console.log(describeCheckpoints(v));
    return v.ok ? 0 : 1;
  });
}

function describeCheckpoints(v: AuditVerification): string {
  const c = v.checkpoints;
  if (!c) return 'checkpoints: none configured (in-memory store)';
  const others = c.otherStores ? `; ${c.otherStores} of other stores ignored` : '';
  if (!c.last)
    return `checkpoints: none signed yet (${c.file}${others}); "custodia audit checkpoint" signs the head now`;
  return (
    `checkpoints: ${c.verified} signed with key ${c.keyId}, the last at position ${c.last.position} ` +
    `(${c.last.at}) — kept in ${c.file}${others}`
  );
}

async function checkpoint(args: string[]): Promise<number> {
  const { positionals } = parseOptions(args, {});
  if (positionals.length) throw new UsageError('audit checkpoint takes no arguments');
  return withStore(async (store) => {
    const c = await store.checkpoint();
    if (!c) console.log('no checkpoint: the audit log is empty, or the store is in memory');
    else
      console.log(`checkpoint: position ${c.position}, hash ${c.hash}, signed ${c.at} with key ${c.keyId}`);
    return 0;
  });
}

/** Who the audit records name for acts done from this CLI. */
export function cliActor(): string {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    name = process.env.USER;
  }
  return `cli:${name || 'unknown'}`;
}

async function exportAudit(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { client: { type: 'string' }, out: { type: 'string' } });
  const client = values.client as string | undefined;
  if (positionals.length > 1 || (client !== undefined && positionals.length))
    throw new UsageError(
      'audit export takes one subject (workflow id, user:<id>, …), or --client C, or nothing for all',
    );
  return withStore(async (store) => {
    const entries =
      client !== undefined
        ? await store.auditOfClient(client)
        : await store.audit(positionals.length ? { subject: positionals[0]! } : {});
    const doc = auditExport(entries, await store.checkpoints());
    const text = JSON.stringify(doc, null, 2) + '\n';
    if (typeof values.out === 'string') writeFileSync(values.out, text, { mode: 0o600 });
    else process.stdout.write(text);
    const query: Record<string, string> = {};
    if (client !== undefined) query.client = client;
    await store.appendSecurityRecord(
      exportRecord({
        actorId: cliActor(),
        what: 'audit',
        subject: client !== undefined ? `client:${client}` : (positionals[0] ?? 'audit'),
        format: 'json',
        count: entries.length,
        query,
        ...(client !== undefined ? { client } : {}),
      }),
    );
    if (typeof values.out === 'string')
      console.error(
        `exported ${entries.length} entries and ${doc.checkpoints.length} checkpoint(s) to ${values.out}`,
      );
    return 0;
  });
}

const FORMATS = ['text', 'csv', 'json'] as const;

async function show(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    client: { type: 'string' },
    format: { type: 'string' },
  });
  const format = (values.format ?? 'text') as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  const client = values.client as string | undefined;
  if ((client === undefined) === (positionals.length !== 1))
    throw new UsageError('audit show needs one workflow id (or other subject), or --client C');
  return withStore(async (store) => {
    const entries =
      client !== undefined
        ? await store.auditOfClient(client)
        : await store.audit({ subject: positionals[0]! });
    if (format === 'json') console.log(JSON.stringify(entries, null, 2));
    else if (format === 'csv') process.stdout.write(auditToCsv(entries));
    else if (!entries.length)
      console.error(`no audit records for ${client !== undefined ? `client ${client}` : positionals[0]}`);
    else console.log(auditToText(entries));
    return 0;
  });
}
