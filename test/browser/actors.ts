/**
 * The people of the browser scenarios (users in the records store, all with PASSWORD) and the
 * engine-side steps that set a scene up before the browser takes over (the same `event` update the
 * API sends; the scenario's point is then shown and done through the UI).
 */
import { startProcedure } from '../../worker/instances.ts';
import { sendEvent } from '../integration/harness.ts';
import type { Actor, Json } from '../../workflows/core/ir.ts';
import type { Stack } from './stack.ts';

export const CLIENT = 'acme';

/** li: project staff, the requester. */
export const LI = { id: 'li', displayName: 'Li Na', roles: ['project_staff'], clients: [CLIENT] } as const;
/** zhao: head of General Affairs, approves file access. */
export const ZHAO = {
  id: 'zhao',
  displayName: 'Zhao Lei',
  roles: ['general_affairs_head'],
  clients: [CLIENT],
} as const;
/** qian: Quality Manager who also reviews applications — may request access and approve others'. */
export const QIAN = {
  id: 'qian',
  displayName: 'Qian Fang',
  roles: ['quality_manager', 'application_reviewer'],
  clients: [CLIENT],
} as const;
/** wang: Quality Administrator, issues files and logs the lending. */
export const WANG = {
  id: 'wang',
  displayName: 'Wang Min',
  roles: ['quality_administrator'],
  clients: [CLIENT],
} as const;
/** sun: the Quality Manager watching for stalled work. */
export const SUN = { id: 'sun', displayName: 'Sun Hao', roles: ['quality_manager'], clients: [] } as const;
/** admin: deploys definitions (and, as project staff of acme, starts instances). */
export const ADMIN = {
  id: 'admin',
  displayName: 'Ada Admin',
  roles: ['admin', 'project_staff'],
  clients: [CLIENT],
} as const;

type Person = { id: string; roles: readonly string[] };
export const actor = (p: Person): Actor => ({ id: p.id, roles: [...p.roles] });

/** Start an instance of the stack's current definition of `procedure` as `starter`. */
export function start(
  stack: Stack,
  procedure: string,
  starter: Person,
  context: Record<string, Json> = { client: CLIENT },
): Promise<string> {
  const def = stack.definitions.get(procedure);
  if (!def) throw new Error(`no definition ${procedure}`);
  return startProcedure(stack.client, def, { context, starter: actor(starter), taskQueue: stack.taskQueue });
}

/** Send an event as `who` (must be accepted). */
export async function send(
  stack: Stack,
  workflowId: string,
  who: Person,
  type: string,
  data?: Record<string, Json>,
): Promise<void> {
  await sendEvent(stack.client, workflowId, { type, actor: actor(who), ...(data ? { data } : {}) });
}

/** A file-access request by `requester`, submitted (awaiting approval). */
export async function submittedRequest(
  stack: Stack,
  requester: Person,
  request: { file_id: string; purpose: string; window_days?: 1 | 3 | 7 },
): Promise<string> {
  const id = await start(stack, 'file_access', requester);
  await send(stack, id, requester, 'SUBMIT', {
    file_id: request.file_id,
    purpose: request.purpose,
    access_kind: 'view',
    window_days: request.window_days ?? 3,
  });
  return id;
}
