/** Deployed definition versions on the embedded store: immutable, idempotent, audited. */
import { describe, expect, it } from 'vitest';
import { hashProcedure } from '../../workflows/core/hash.ts';
import type { ProcedureIR } from '../../workflows/core/ir.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import { isRecordsError } from '../../worker/records/errors.ts';
import type { SqlClient } from '../../worker/records/sql.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { withMemoryStore } from '../support/records.ts';

const yaml = (title: string): string => `
id: tiny
version: 1.0.0
title: { zh: 小, en: ${title} }
description: { zh: 小, en: Tiny }
roles: { staff: { zh: 员工, en: Staff } }
events: { GO: { title: { zh: 走, en: Go } } }
initial: a
states:
  a: { title: { zh: 甲, en: A }, on: { GO: { target: b, roles: staff } } }
  b: { title: { zh: 乙, en: B }, type: final }
`;

function ir(text: string): ProcedureIR {
  const result = validateProcedureText(text, 'tiny.yaml');
  if (!result.ir) throw new Error(JSON.stringify(result.diagnostics));
  return result.ir;
}

function version(title: string, deployedBy = 'admin1') {
  const text = yaml(title);
  const i = ir(text);
  return { procedure: 'tiny', version: '1.0.0', hash: hashProcedure(i), yaml: text, ir: i, deployedBy };
}

let sql: SqlClient;
let store: RecordsStore;

withMemoryStore((s) => ({ sql, store } = s));

describe('definition versions', () => {
  it('deploys a version with its hash, YAML, IR, who and when — and audits it', async () => {
    const v = version('Tiny');
    const deployed = await store.deployDefinition(v);
    expect(deployed).toMatchObject({
      procedure: 'tiny',
      version: '1.0.0',
      hash: v.hash,
      deployedBy: 'admin1',
    });
    const read = await store.definitionVersion('tiny', '1.0.0');
    expect(read).toEqual(deployed);
    expect(hashProcedure(read!.ir)).toBe(v.hash);
    expect(read!.yaml).toBe(v.yaml);
    const [record] = await store.audit({ kind: 'deployment' });
    expect(record).toMatchObject({
      subject: 'tiny@1.0.0',
      actorId: 'admin1',
      at: deployed.deployedAt,
      body: { procedure: 'tiny', version: '1.0.0', hash: v.hash },
    });
  });

  it('is idempotent for the same content (no second audit record)', async () => {
    const again = await store.deployDefinition(version('Tiny', 'admin2'));
    expect(again.deployedBy).toBe('admin1');
    expect(await store.audit({ kind: 'deployment' })).toHaveLength(1);
  });

  it('refuses different content under the same version, with a clear error', async () => {
    const err = await store.deployDefinition(version('Tiny but changed')).catch((e: unknown) => e);
    expect(isRecordsError(err, 'DEFINITION_CONFLICT')).toBe(true);
    expect((err as Error).message).toMatch(
      /tiny@1\.0\.0 is already deployed with different content .* by admin1 .* give the change a new version/,
    );
    expect((await store.definitionVersion('tiny', '1.0.0'))!.ir.title.en).toBe('Tiny');
  });

  it('refuses a hash that is not the IR hash, and an IR of another procedure@version', async () => {
    const v = version('Tiny');
    const mismatch = await store
      .deployDefinition({ ...v, version: '1.0.1', ir: { ...v.ir, version: '1.0.1' } })
      .catch((e: unknown) => e);
    expect(isRecordsError(mismatch, 'DEFINITION_HASH_MISMATCH')).toBe(true);
    const other = await store.deployDefinition({ ...v, version: '2.0.0' }).catch((e: unknown) => e);
    expect(isRecordsError(other, 'INVALID_INPUT')).toBe(true);
  });

  it('keeps versions side by side and refuses UPDATE/DELETE of a deployed version', async () => {
    const text = yaml('Tiny').replace('version: 1.0.0', 'version: 1.1.0');
    const i = ir(text);
    await store.deployDefinition({
      procedure: 'tiny',
      version: '1.1.0',
      hash: hashProcedure(i),
      yaml: text,
      ir: i,
      deployedBy: 'a',
    });
    expect((await store.definitionVersions('tiny')).map((d) => d.version)).toEqual(['1.0.0', '1.1.0']);
    expect(await store.definitionVersions('other')).toEqual([]);
    await expect(sql.query(`UPDATE definition_versions SET yaml = 'x'`)).rejects.toThrow(/append-only/);
    await expect(sql.query(`DELETE FROM definition_versions`)).rejects.toThrow(/append-only/);
    expect((await store.verifyAudit()).ok).toBe(true);
  });
});
