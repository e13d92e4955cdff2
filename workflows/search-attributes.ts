/**
 * The search attributes every instance keeps current (a fixed contract). Registered by the project
 * on any dev server it starts; the README lists them for external clusters ("Running against a
 * Temporal cluster").
 */
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type SearchAttributeUpdatePair,
  type TypedSearchAttributes,
} from '@temporalio/common';

/**
 * The longest an instance's search attributes lag behind it (ms): an instance upserts at most once
 * per this interval; a change within it of the last upsert is upserted at its end (patch
 * `coalesce-search-attributes` in `procedure.workflow.ts`). A change after a quiet interval is
 * upserted in the workflow task that makes it. Temporal's visibility on Elasticsearch lags as much
 * (its index refreshes every second).
 */
export const SEARCH_ATTRIBUTES_EVERY_MS = 1000;

/**
 * A burst's window (ms; patch `search-attributes-burst-window`): when an instance keeps changing —
 * a change within `SEARCH_ATTRIBUTES_EVERY_MS` of an upsert that was itself deferred — the change is
 * upserted this long after that upsert, with every change made until then, or by the closing task
 * if the instance ends first. So while an instance changes several times a second (an automated
 * client, a bulk action) its search attributes lag behind it by at most this long; a change after
 * a quiet second is there at once, and one within a second of that at the second's end.
 */
export const SEARCH_ATTRIBUTES_BURST_MS = 5000;

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

/** Every search attribute an instance keeps, as typed keys. */
export const CUSTODIA_KEYS = [
  CustodiaProcedure,
  CustodiaVersion,
  CustodiaClient,
  CustodiaState,
  CustodiaAwaiting,
  CustodiaStateSince,
  CustodiaDueAt,
  CustodiaAssignee,
  CustodiaEscalation,
] as const;

/** An instance's search attributes as the `searchAttributes` query answers them (plain JSON). */
export type AttributeValues = Record<string, string | string[] | number | null>;

/** `pairs` as plain JSON: a date as its ISO string, a removed attribute as null. */
export function attributeValues(pairs: readonly SearchAttributeUpdatePair[]): AttributeValues {
  const out: AttributeValues = {};
  for (const p of pairs) {
    const v = p.value as unknown;
    out[p.key.name] =
      v instanceof Date ? v.toISOString() : ((v as AttributeValues[string] | undefined) ?? null);
  }
  return out;
}

/**
 * `attributes` with the `values` of a `searchAttributes` query put in (the attributes it names; a
 * null removes one): what they will hold once the instance's coalesced upsert is made.
 */
export function withAttributeValues(
  attributes: TypedSearchAttributes,
  values: AttributeValues,
): TypedSearchAttributes {
  const pairs: SearchAttributeUpdatePair[] = [];
  for (const key of CUSTODIA_KEYS) {
    if (!(key.name in values)) continue;
    const v = values[key.name];
    const value =
      v === null || v === undefined
        ? null
        : key.type === SearchAttributeType.DATETIME
          ? new Date(v as string)
          : v;
    pairs.push({ key, value } as SearchAttributeUpdatePair);
  }
  return attributes.updateCopy(pairs);
}
