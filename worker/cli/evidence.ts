/**
 * `custodia evidence --client C [--from DATE] [--to DATE] [--lang zh|en] --out DIR` — the assessor's
 * evidence pack for one client and period: `DIR/<name>.pdf` (the report) and `DIR/<name>.zip` (the
 * report again, the audit chain segment, the signed checkpoint, definitions, proofs, coverage,
 * instances, logs, attachments' hashes, a signed manifest). Run as an operator with access to the
 * records store, like `custodia audit export`; the export is itself an audit record of the client.
 *
 * `custodia evidence verify DIR` — re-check a pack offline (no store, no server): exit 0 with a
 * summary, exit 1 naming the first thing that fails.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  evidenceRequest,
  gatherEvidence,
  packFiles,
  pdfFonts,
  recordEvidenceExport,
  sealPack,
} from '../evidence/index.ts';
import { verifyPackFiles } from '../evidence/verify-pack.ts';
import { cliActor, withStore } from './audit.ts';
import { parseOptions, UsageError } from './options.ts';

export async function evidenceCommand(args: string[]): Promise<number> {
  if (args[0] === 'verify') return verifyCommand(args.slice(1));
  const { values, positionals } = parseOptions(args, {
    client: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    lang: { type: 'string' },
    out: { type: 'string' },
  });
  if (positionals.length)
    throw new UsageError(
      `evidence takes no arguments (got ${positionals.join(' ')}); did you mean "evidence verify DIR"?`,
    );
  const client = values.client;
  const out = values.out;
  if (typeof client !== 'string' || !client.trim()) throw new UsageError('evidence needs --client C');
  if (typeof out !== 'string' || !out) throw new UsageError('evidence needs --out DIR');
  const lang = (values.lang ?? 'zh') as string;
  if (lang !== 'zh' && lang !== 'en') throw new UsageError('--lang must be zh or en');
  let request;
  try {
    request = evidenceRequest({
      client,
      ...(typeof values.from === 'string' ? { from: values.from } : {}),
      ...(typeof values.to === 'string' ? { to: values.to } : {}),
      lang,
      generatedBy: cliActor(),
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const fonts = pdfFonts(); // before anything is read: a missing font is the operator's to fix
  return withStore(async (store) => {
    const data = await gatherEvidence(store, request);
    const pack = await sealPack(await packFiles(data, fonts), (m) => store.signWithCheckpointKey(m));
    await recordEvidenceExport(store, request, pack);
    mkdirSync(out, { recursive: true, mode: 0o700 });
    const pdf = path.join(out, `${pack.name}.pdf`);
    const zip = path.join(out, `${pack.name}.zip`);
    writeFileSync(pdf, pack.pdf, { mode: 0o600 });
    writeFileSync(zip, pack.zip, { mode: 0o600 });
    const c = pack.counts;
    console.log(`${pdf}\n${zip}`);
    console.error(
      `evidence pack for ${request.client}: ${c.instances} instance(s), ${c.logRows} log entr(ies), ` +
        `${c.records} audit records (${c.sealed} sealed); manifest SHA-256 ${pack.manifestSha256}`,
    );
    return 0;
  });
}

function verifyCommand(args: string[]): number {
  const { positionals } = parseOptions(args, {});
  if (positionals.length !== 1) throw new UsageError('evidence verify needs one folder (or .zip)');
  let result;
  try {
    result = verifyPackFiles(positionals[0]!);
  } catch (err) {
    console.error(`✗ ${(err as Error).message}`);
    return 1;
  }
  for (const c of result.checks) console.log(`${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`);
  if (result.ok) {
    console.log('evidence pack intact');
    return 0;
  }
  console.error(`evidence pack FAILED — ${result.verdict}`);
  return 1;
}
