/**
 * Roles come from definitions and configuration, not from the engine's code: the engine knows only
 * `admin` and `auditor`; a definition declaring new roles can be staffed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assessDraft } from '../../worker/drafts.ts';
import { isRecordsError } from '../../worker/records/errors.ts';
import { openPgliteClient } from '../../worker/records/sql.ts';
import { createRecordsStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import {
  ADMIN_ROLE,
  allClientRoles,
  AUDITOR_ROLE,
  ENGINE_ROLES,
  knownRoles,
  productRoles,
  rolesProblem,
  seesAllClients,
} from '../../worker/roles.ts';
import { REPO_ROOT } from '../../worker/settings.ts';

const PURCHASE_YAML = readFileSync(path.join(REPO_ROOT, 'test/fixtures/purchase/purchase.yaml'), 'utf8');
const purchase = assessDraft(PURCHASE_YAML, 'purchase.yaml').definition!;
const PASSWORD = 'correct horse battery staple';

describe('knownRoles', () => {
  it('the fixture is a valid definition', () => {
    expect(assessDraft(PURCHASE_YAML, 'purchase.yaml').diagnostics).toEqual([]);
  });

  it('is the engine roles plus every role the definitions declare, with their titles', () => {
    const known = knownRoles([purchase]);
    expect([...known.keys()]).toEqual(['admin', 'auditor', 'buyer', 'finance', 'legal', 'requester']);
    expect(known.get('finance')).toEqual({
      id: 'finance',
      title: { zh: '财务', en: 'Finance' },
      engine: false,
      procedures: ['purchase'],
    });
    expect(known.get(ADMIN_ROLE)).toMatchObject({ engine: true, title: ENGINE_ROLES.admin.title });
    expect(known.get(AUDITOR_ROLE)?.description?.en).toMatch(/records/);
    // Nothing of the confidentiality procedure is built in.
    expect(knownRoles([]).has('quality_manager')).toBe(false);
  });

  it("leaves out the engine's reporting role: no person can hold `deployer` (definition_change)", () => {
    const change = assessDraft(
      readFileSync(path.join(REPO_ROOT, 'definitions/definition_change.yaml'), 'utf8'),
      'definition_change.yaml',
    ).definition!;
    expect(Object.keys(change.ir.roles)).toContain('deployer');
    const known = knownRoles([change]);
    expect(known.has('deployer')).toBe(false);
    expect(known.has('admin')).toBe(true);
    expect(rolesProblem(['deployer'], known)).toMatch(/unknown role\(s\) deployer/);
    // Likewise the role the engine answers a register lookup under (sample_custody).
    const custody = assessDraft(
      readFileSync(path.join(REPO_ROOT, 'definitions/sample_custody.yaml'), 'utf8'),
      'sample_custody.yaml',
    ).definition!;
    expect(Object.keys(custody.ir.roles)).toContain('registry');
    expect(knownRoles([custody]).has('registry')).toBe(false);
  });

  it('names unknown roles and the known ones', () => {
    const known = knownRoles([purchase]);
    expect(rolesProblem(['finance', 'admin'], known)).toBeUndefined();
    expect(rolesProblem(['finance', 'wizard'], known)).toBe(
      'unknown role(s) wizard; known: admin, auditor, buyer, finance, legal, requester',
    );
    expect(rolesProblem([], known)).toBe('a user needs at least one role');
  });
});

describe('roles that see every client', () => {
  it('are configured (CUSTODIA_ALL_CLIENT_ROLES), by default the quality and general managers', () => {
    expect([...allClientRoles({})]).toEqual(['quality_manager', 'general_manager']);
    const finance = allClientRoles({ CUSTODIA_ALL_CLIENT_ROLES: 'finance' });
    expect(seesAllClients({ roles: ['requester', 'finance'] }, finance)).toBe(true);
    expect(seesAllClients({ roles: ['quality_manager'] }, finance)).toBe(false);
    expect(seesAllClients({ roles: ['quality_manager'] }, allClientRoles({}))).toBe(true);
  });
});

describe('the user store and roles', () => {
  let store: RecordsStore;
  beforeAll(async () => {
    store = await createRecordsStore(await openPgliteClient(null));
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });

  it('staffs a definition the engine never heard of; refuses what the caller does not know', async () => {
    const known = await productRoles(store, [purchase]);
    const user = await store.createUser(
      { id: 'fay', displayName: 'Fay', roles: ['finance'], password: PASSWORD },
      'cli:root',
      known,
    );
    expect(user.roles).toEqual(['finance']);
    const refused = await store
      .setRoles('fay', ['finance', 'wizard'], 'cli:root', known)
      .catch((e: unknown) => e);
    expect(isRecordsError(refused, 'INVALID_INPUT')).toBe(true);
    expect((refused as Error).message).toMatch(/unknown role\(s\) wizard; known: admin, auditor, buyer/);
    const malformed = await store.setRoles('fay', ['Finance Dept'], 'cli:root').catch((e: unknown) => e);
    expect(isRecordsError(malformed, 'INVALID_INPUT')).toBe(true);
  });

  it('counts the roles of versions deployed in the store', async () => {
    const yaml = PURCHASE_YAML.replace('version: 1.0.0', 'version: 2.0.0')
      .replace('buyer: { zh: 采购员, en: Buyer }', 'treasurer: { zh: 出纳, en: Treasurer }')
      .replace('roles: buyer', 'roles: treasurer');
    const v2 = assessDraft(yaml, 'purchase-2.yaml').definition!;
    await store.deployDefinition({
      procedure: v2.ir.id,
      version: v2.ir.version,
      hash: v2.hash,
      yaml,
      ir: v2.ir,
      deployedBy: 'ada',
    });
    const known = await productRoles(store, [purchase]);
    expect(known.get('treasurer')?.procedures).toEqual(['purchase']);
    expect(known.has('buyer')).toBe(true);
    expect((await store.setRoles('fay', ['treasurer'], 'cli:root', known)).roles).toEqual(['treasurer']);
  });
});
