/**
 * `custodia audit verify` — recompute the hash chain of the records store: exit 0 with
 * `audit chain intact: N records`, or exit 1 listing every altered, missing or reordered record.
 * `custodia audit show <workflowId|subject> | --client C [--format text|csv|json]` — the records.
 *
 * The store is DATABASE_URL (PostgreSQL) or the embedded one in CUSTODIA_RECORDS_DIR
 * (default data/records); the embedded one cannot be opened while `npm start` holds it.
 */
import { auditToCsv, auditToText } from '../records/export.ts';
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
    default:
      throw new UsageError(
        sub === undefined ? 'audit needs a subcommand: verify or show' : `unknown audit subcommand "${sub}"`,
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
    return v.ok ? 0 : 1;
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
