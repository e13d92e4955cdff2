/** Shapes of the API's answers the pages read (see `worker/api/server.ts`, `workflows/api.ts`). */
import type { ProcedureIR, Text } from '../../workflows/core/ir.ts';
import type { TransitionRecord } from '../../workflows/core/runtime.ts';
import type { ProcedureSnapshot } from '../../workflows/api.ts';

export interface User {
  id: string;
  displayName: string;
  roles: string[];
  clients: string[];
}

export interface SessionInfo {
  user: User;
  csrfToken: string;
  expiresAt: string;
}

export interface InstanceRow {
  workflowId: string;
  status: string;
  procedure?: string;
  version?: string;
  client?: string;
  state: string[];
  awaiting: string[];
  stateSince?: string;
  dueAt?: string;
  overdue: boolean;
}

export interface InboxTask extends InstanceRow {
  myRoles: string[];
}

export interface StalledRow extends InstanceRow {
  idleMs: number;
  overdueMs?: number;
}

export type { TransitionRecord };

/** `GET /api/instances/:id`: the workflow's `snapshot` query, its id, and the events my roles may send. */
export interface Snapshot extends ProcedureSnapshot {
  workflowId: string;
  availableToMyRoles: string[];
}

export interface DefinitionSummary {
  id: string;
  version: string;
  hash: string;
  title: Text;
  description: Text;
  roles: Record<string, Text>;
  clientField?: string;
  events: string[];
}

export interface DefinitionDetail extends DefinitionSummary {
  ir: ProcedureIR;
}

export interface PinnedDefinition {
  id: string;
  version: string;
  hash: string;
  current: boolean;
  ir: ProcedureIR;
}

/** `GET /api/clauses` answers the parser's own type. */
export type { Clause } from '../../workflows/core/clauses.ts';

export interface EventResult {
  state: unknown;
  leaves: string[];
  seq: number;
  done: boolean;
  available: string[];
}
