/** Shapes of the API's answers the pages read (see `worker/api/server.ts`, `workflows/api.ts`). */
import type { Json, ProcedureIR, Text } from '../../workflows/core/ir.ts';

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

export interface TransitionRecord {
  seq: number;
  at: string;
  event: string;
  actor: { id: string; roles: string[] };
  from: string[];
  to: string[];
  clauses: string[];
  data?: Record<string, Json>;
}

export interface Snapshot {
  workflowId: string;
  procedure: string;
  version: string;
  hash: string;
  title: Text;
  state: unknown;
  leaves: string[];
  done: boolean;
  context: Record<string, Json>;
  available: Record<string, string[]>;
  availableToMyRoles: string[];
  awaiting: string[];
  stateSince: string;
  dueAt?: string;
  timers: { event: string; dueAt: string }[];
  log: TransitionRecord[];
  children: { workflowId: string; procedure: string; seq: number }[];
  parent?: { workflowId: string; seq: number };
  runs: number;
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
