/**
 * The search attributes every instance keeps current (a fixed contract). Registered by the project
 * on any dev server it starts; the README lists them for external clusters ("Running against a
 * Temporal cluster").
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CustodiaProcedure = defineSearchAttributeKey('CustodiaProcedure', SearchAttributeType.KEYWORD);
export const CustodiaVersion = defineSearchAttributeKey('CustodiaVersion', SearchAttributeType.KEYWORD);
export const CustodiaClient = defineSearchAttributeKey('CustodiaClient', SearchAttributeType.KEYWORD);
/** Active leaf states. */
export const CustodiaState = defineSearchAttributeKey('CustodiaState', SearchAttributeType.KEYWORD_LIST);
/** Roles that can act now. */
export const CustodiaAwaiting = defineSearchAttributeKey(
  'CustodiaAwaiting',
  SearchAttributeType.KEYWORD_LIST,
);
export const CustodiaStateSince = defineSearchAttributeKey(
  'CustodiaStateSince',
  SearchAttributeType.DATETIME,
);
/** SLA deadline of the current state; absent when none. */
export const CustodiaDueAt = defineSearchAttributeKey('CustodiaDueAt', SearchAttributeType.DATETIME);
/** Who the tasks of the active states are assigned to (user ids; absent when nobody). */
export const CustodiaAssignee = defineSearchAttributeKey(
  'CustodiaAssignee',
  SearchAttributeType.KEYWORD_LIST,
);
/** Escalation level of the active states (0: none; `sla: { escalate }`, `workflows/sla.ts`). */
export const CustodiaEscalation = defineSearchAttributeKey('CustodiaEscalation', SearchAttributeType.INT);
