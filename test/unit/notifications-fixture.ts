/** Shared by the notification tests: an in-memory store with staff of two clients, and commits that notify. */
import type { TransitionCommit } from '../../workflows/api.ts';
import { openPgliteClient } from '../../worker/records/sql.ts';
import { createRecordsStore } from '../../worker/records/store.ts';
import type { NewUser, RecordsStore } from '../../worker/records/types.ts';

export const PASSWORD = 'correct horse battery staple';

/**
 * alice (project_staff, acme, e-mail, zh), bob (project_staff, globex, e-mail, en), carol
 * (project_staff + quality_manager: every client, e-mail), erin (project_staff, acme, no e-mail),
 * dave (project_staff, acme, disabled), root (admin).
 */
export const STAFF: (Omit<NewUser, 'password'> & {
  email?: string;
  language?: 'zh' | 'en';
  disabled?: boolean;
})[] = [
  {
    id: 'alice',
    displayName: 'Alice',
    roles: ['project_staff'],
    clients: ['acme'],
    email: 'alice@example.test',
  },
  {
    id: 'bob',
    displayName: 'Bob',
    roles: ['project_staff'],
    clients: ['globex'],
    email: 'bob@example.test',
    language: 'en',
  },
  {
    id: 'carol',
    displayName: 'Carol',
    roles: ['project_staff', 'quality_manager'],
    clients: [],
    email: 'carol@example.test',
  },
  { id: 'erin', displayName: 'Erin', roles: ['project_staff'], clients: ['acme'] },
  {
    id: 'dave',
    displayName: 'Dave',
    roles: ['project_staff'],
    clients: ['acme'],
    email: 'dave@example.test',
    disabled: true,
  },
  { id: 'root', displayName: 'Root', roles: ['admin'], clients: [] },
];

export async function addStaff(store: RecordsStore, staff = STAFF): Promise<void> {
  for (const u of staff) {
    const { email, language, disabled, ...rest } = u;
    await store.createUser({ ...rest, password: PASSWORD }, 'test');
    if (email || language)
      await store.setUserContact(
        u.id,
        { ...(email ? { email } : {}), ...(language ? { language } : {}) },
        'test',
      );
    if (disabled) await store.setDisabled(u.id, true, 'test');
  }
}

export async function memoryStore(): Promise<RecordsStore> {
  return createRecordsStore(await openPgliteClient(null));
}

let tick = 0;

/** A transition of `workflowId` (client `client`, or none) that notifies `to`. */
export function notifyingCommit(
  workflowId: string,
  seq: number,
  opts: { client?: string | null; to?: string; zh?: string; en?: string } = {},
): TransitionCommit {
  const client = opts.client === undefined ? 'acme' : opts.client;
  return {
    workflowId,
    procedure: 'file_access',
    version: '1.0.0',
    hash: 'a'.repeat(64),
    ...(client ? { client } : {}),
    record: {
      seq,
      at: new Date(Date.UTC(2026, 11, 1, 0, 0, tick++)).toISOString(),
      event: 'SUBMIT',
      actor: { id: 'alice', roles: ['project_staff'] },
      from: ['draft'],
      to: ['review'],
      clauses: [],
    },
    effects: [
      {
        kind: 'notify',
        to: opts.to ?? 'project_staff',
        message: { zh: opts.zh ?? `请审阅 ${workflowId}`, en: opts.en ?? `Please review ${workflowId}` },
      },
      { kind: 'notify', to: 'client', message: { zh: '已受理', en: 'Received' } },
    ],
  };
}
