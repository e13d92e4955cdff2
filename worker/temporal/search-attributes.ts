/**
 * Custodia's custom search attributes (a fixed contract, listed in the README): names and types,
 * for registering them on every dev server the project starts and, via `ensureSearchAttributes`,
 * on external clusters. The typed keys workflow code upserts are in `workflows/search-attributes.ts`.
 *
 * Pure module (no imports), safe anywhere.
 */

/** Search attribute type names as the Temporal CLI spells them (`--search-attribute NAME=TYPE`). */
export type SearchAttributeTypeName = 'Keyword' | 'KeywordList' | 'Datetime' | 'Int';

/** Name → type of every custom search attribute Custodia writes. */
export const SEARCH_ATTRIBUTES = {
  /** The procedure id of the definition an instance runs. */
  CustodiaProcedure: 'Keyword',
  /** The definition version (IR hash) pinned by the instance. */
  CustodiaVersion: 'Keyword',
  /** The client (certification customer) the instance concerns. */
  CustodiaClient: 'Keyword',
  /** Active leaf states. */
  CustodiaState: 'KeywordList',
  /** Roles that can act now. */
  CustodiaAwaiting: 'KeywordList',
  /** When the current state was entered. */
  CustodiaStateSince: 'Datetime',
  /** SLA deadline of the current state; absent when none. */
  CustodiaDueAt: 'Datetime',
  /** Who the tasks of the active states are assigned to; absent when nobody. */
  CustodiaAssignee: 'KeywordList',
  /** Escalation level of the active states (`sla: { escalate }`); 0 or absent: not escalated. */
  CustodiaEscalation: 'Int',
} as const satisfies Record<string, SearchAttributeTypeName>;

export type CustodiaSearchAttribute = keyof typeof SEARCH_ATTRIBUTES;

/** `--search-attribute` arguments for `temporal server start-dev`. */
export function searchAttributeArgs(): string[] {
  return Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => [
    '--search-attribute',
    `${name}=${type}`,
  ]);
}

/** `temporal.api.enums.v1.IndexedValueType` numbers (the OperatorService speaks these). */
export const INDEXED_VALUE_TYPES = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
} as const;

export type IndexedValueTypeName = keyof typeof INDEXED_VALUE_TYPES;

/** CLI-style type name (`Keyword`, …) of an IndexedValueType given as a number or an enum name. */
export function indexedValueTypeName(value: unknown): IndexedValueTypeName | undefined {
  for (const [name, n] of Object.entries(INDEXED_VALUE_TYPES) as [IndexedValueTypeName, number][]) {
    if (value === n) return name;
    if (
      typeof value === 'string' &&
      value
        .replace(/^INDEXED_VALUE_TYPE_/, '')
        .replace(/_/g, '')
        .toLowerCase() === name.toLowerCase()
    ) {
      return name;
    }
  }
  return undefined;
}
