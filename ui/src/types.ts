/**
 * Shapes of the API's answers the pages read (see `worker/api/server.ts`). What the engine defines
 * comes from its Temporal-free contract (`workflows/contract.ts`), not from copies.
 */
import type { ProcedureIR, Text } from '../../workflows/core/ir.ts';
import type { InstanceRow, ProcedureSnapshot, SlaView, TransitionRecord } from '../../workflows/contract.ts';

export type { EventResult, InstanceRow } from '../../workflows/contract.ts';

export interface User {
  id: string;
  displayName: string;
  roles: string[];
  clients: string[];
  /** Permissions held beyond signing in (`worker/access.ts`), e.g. `dashboard`. */
  permissions?: string[];
}

export interface SessionInfo {
  user: User;
  csrfToken: string;
  expiresAt: string;
}

export interface InboxTask extends InstanceRow {
  myRoles: string[];
}

export interface StalledRow extends InstanceRow {
  idleMs: number;
  overdueMs?: number;
  /** Escalation level and next reminder (definitions with `sla: { remind | escalate }`). */
  sla?: SlaView;
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
