/**
 * Who sees what (worker/access.ts), the one visibility quote, and visibility rows decoded from raw
 * entries with the SDK's public API — without Temporal.
 */
import { describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  instanceFilter,
  isAdmin,
  isolationClause,
  mayAccessClient,
  mayAccessInstance,
  NOTHING,
  PERMISSIONS,
  seesAllClients,
} from '../../worker/access.ts';
import type { Role, User } from '../../worker/records/types.ts';
import { InvalidQueryValue, listPage, quote } from '../../worker/visibility.ts';

const user = (roles: Role[], clients: string[] = []): User => ({
  id: 'u',
  displayName: 'U',
  roles,
  clients,
  disabled: false,
  createdAt: new Date(0).toISOString(),
});

describe('client isolation', () => {
  const staff = user(['project_staff'], ['acme', 'globex']);
  const loner = user(['project_staff']);
  const qm = user(['quality_manager']);
  const admin = user(['admin']);

  const clientless = (p: string): boolean => p === 'definition_change';

  it('lets staff see their clients only; managers see all', () => {
    expect(seesAllClients(staff)).toBe(false);
    expect(seesAllClients(qm)).toBe(true);
    expect(mayAccessClient(staff, 'acme')).toBe(true);
    expect(mayAccessClient(staff, 'initech')).toBe(false);
    expect(mayAccessClient(qm, 'initech')).toBe(true);
  });

  it('shows an instance without a client only to roles that see every client (admins: definitions-level)', () => {
    const finding = { procedure: 'supervision' }; // a client field, left empty
    const change = { procedure: 'definition_change' }; // no client field at all
    expect([staff, loner, admin, qm].map((u) => mayAccessInstance(u, finding, clientless))).toEqual([
      false,
      false,
      false,
      true,
    ]);
    expect([staff, loner, admin, qm].map((u) => mayAccessInstance(u, change, clientless))).toEqual([
      false,
      false,
      true,
      true,
    ]);
    expect(mayAccessInstance(staff, { client: 'acme', procedure: 'supervision' }, clientless)).toBe(true);
    expect(mayAccessInstance(staff, { client: 'initech', procedure: 'supervision' }, clientless)).toBe(false);
    expect(mayAccessInstance(staff, { client: '', procedure: 'supervision' }, clientless)).toBe(false);
  });

  it('decides the same per instance when the all-client check is taken once for many rows', () => {
    const scopes = [
      { procedure: 'supervision' },
      { procedure: 'definition_change' },
      { client: 'acme', procedure: 'supervision' },
      { client: 'initech', procedure: 'supervision' },
      { client: '', procedure: 'definition_change' },
      {},
    ];
    for (const u of [staff, loner, admin, qm, user(['admin'], ['acme'])]) {
      const may = instanceFilter(u, clientless);
      expect(scopes.map((sc) => may(sc))).toEqual(scopes.map((sc) => mayAccessInstance(u, sc, clientless)));
    }
    // Held once: a role that sees every client sees a client it was never given.
    expect(instanceFilter(qm, clientless)({ client: 'initech' })).toBe(true);
    expect(instanceFilter(staff, clientless)({ client: 'initech' })).toBe(false);
  });

  it('limits visibility queries the same way', () => {
    expect(isolationClause(qm)).toBeUndefined();
    expect(isolationClause(loner)).toBe(NOTHING);
    expect(isolationClause(staff)).toBe("CustodiaClient IN ('acme', 'globex')");
    expect(isolationClause(admin, ['definition_change'])).toBe(
      "(CustodiaClient IS NULL AND CustodiaProcedure IN ('definition_change'))",
    );
    expect(isolationClause(user(['admin'], ['acme']), ['definition_change'])).toBe(
      "(CustodiaClient IN ('acme') OR (CustodiaClient IS NULL AND CustodiaProcedure IN ('definition_change')))",
    );
  });

  it('grants permissions by role', () => {
    expect([isAdmin(admin), isAdmin(qm)]).toEqual([true, false]);
    expect([admin, qm, staff].map((u) => PERMISSIONS.verifyAuditChain.holds(u))).toEqual([true, true, false]);
    expect([admin, qm].map((u) => PERMISSIONS.admin.holds(u))).toEqual([true, false]);
  });
});

describe('visibility', () => {
  it('quotes values, refusing quotes, backslashes and line breaks', () => {
    expect(quote('acme')).toBe("'acme'");
    for (const bad of ["o'brien", 'a\\b', 'a\nb', 'a\rb'])
      expect(() => quote(bad)).toThrow(InvalidQueryValue);
  });

  it('decodes a raw visibility page into rows', async () => {
    const sa = (type: string, value: unknown): Payload => {
      const p = defaultPayloadConverter.toPayload(value)!;
      return { ...p, metadata: { ...p.metadata, type: new TextEncoder().encode(type) } };
    };
    const due = '2000-01-01T00:00:00.000Z';
    const raw = {
      execution: { workflowId: 'wf-1', runId: 'r' },
      status: 1,
      searchAttributes: {
        indexedFields: {
          CustodiaProcedure: sa('Keyword', 'file_access'),
          CustodiaVersion: sa('Keyword', ['1.0.0']),
          CustodiaState: sa('KeywordList', ['review']),
          CustodiaAwaiting: sa('KeywordList', ['quality_manager']),
          CustodiaDueAt: sa('Datetime', due),
          CustodiaStateSince: sa('Datetime', 'not a date'),
        },
      },
    };
    const token = Buffer.from('{"next":1}');
    const client = {
      options: { namespace: 'default' },
      workflowService: {
        listWorkflowExecutions: () => Promise.resolve({ executions: [raw], nextPageToken: token }),
      },
    } as unknown as Client;
    const page = await listPage(client, 'q', 10, undefined, new Date('2001-01-01T00:00:00Z'));
    expect(page.rows).toEqual([
      {
        workflowId: 'wf-1',
        status: 'RUNNING',
        procedure: 'file_access',
        version: '1.0.0',
        state: ['review'],
        awaiting: ['quality_manager'],
        dueAt: due,
        overdue: true,
      },
    ]);
    expect(page.nextPageToken).toBe(token.toString('base64url'));
  });
});
