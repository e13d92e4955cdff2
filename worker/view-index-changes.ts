/**
 * What reaches the view index (`view-index.ts`) between its full readings besides the state windows:
 * the instances whose rows changed without a change of state — an assignment, an SLA escalation or
 * reminder, a migration step, an event that stays in its state. Each of those is an accepted
 * transition record in the audit log (`$assign`, `$sla`, `$remind`, `$migrate`, …), written before
 * the workflow task that upserts the row's search attributes completes. So a refresh asks the
 * records store which instances have records since its last reading (`ChangeFeed`) and reads
 * those instances again by id (`describeRows` with `current`: the search attributes as the instance
 * holds them — its upserts may lag it by up to a burst window — no visibility lag, one indexed
 * lookup and one query each); a write made through this process reads its instance at once
 * (`ViewIndex.touch`).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { searchAttributesQuery, WORKFLOW_TYPE } from '../workflows/api.ts';
import { withAttributeValues } from '../workflows/search-attributes.ts';
import { chainHead, instancesChangedAfter } from './records/changed-instances.ts';
import type { RecordsStore } from './records/types.ts';
import { instanceRow, viewQuery, type InstanceRow } from './visibility.ts';

/**
 * How far before the last reading the feed looks again (ms): a record is committed in the workflow
 * task that changes the row, just before the task completes (`workflows/audit-commit.ts`), so a
 * reading may read the instance in between; `describe` has the new row once the task completed,
 * but its upserted search attributes may lag it by up to `SEARCH_ATTRIBUTES_BURST_MS` (5 s) when it
 * changed within a second of its last upsert, so the feed reads them as the instance holds them
 * (`describeRow` with `current`). Ten seconds allows for a slow worker; each instance changed within
 * it is read again at each refresh.
 */
export const FEED_MARGIN_MS = 10_000;

/**
 * The most positions before the last reading's head whose records are checked for that margin
 * (the primary key's range; about 500 records a second for ten seconds).
 */
export const FEED_LOOK_BACK = 5_000;

/** How long `describeRow` with `current` waits for the instance's worker to answer (ms). */
const CURRENT_QUERY_MS = 2000;

/** Records one refresh reads at most; beyond, it reads every row instead (a long outage, a flood). */
export const FEED_LIMIT = 50_000;

/** The instances to read again, and the head to ask after next time (once the refresh succeeded). */
export interface FeedReading {
  ids: string[];
  head: number;
}

/** The change feed of one view index: the audit chain's head as of its last reading. */
export class ChangeFeed {
  /** The head seen at the start of the last successful reading (undefined: none yet). */
  private position: number | undefined;

  constructor(
    private readonly store: Pick<RecordsStore, 'readOnly'>,
    private readonly marginMs: number,
  ) {}

  /** The head now (a full reading starts here); commit it with `advance` once the reading succeeded. */
  head(): Promise<number> {
    return this.store.readOnly((db) => chainHead(db));
  }

  /**
   * The instances with records since the last reading (began at `lastAt`); `'full'` when there were
   * more records than `FEED_LIMIT` (read every row instead); undefined when the feed has no start
   * (the last full reading could not read the head): it starts again with the next full reading.
   */
  async since(lastAt: Date): Promise<FeedReading | 'full' | undefined> {
    if (this.position === undefined) return undefined;
    const after = this.position;
    const out = await this.store.readOnly((db) =>
      instancesChangedAfter(db, {
        after,
        since: new Date(lastAt.getTime() - this.marginMs),
        lookBack: FEED_LOOK_BACK,
        limit: FEED_LIMIT,
      }),
    );
    return out.truncated ? 'full' : { ids: out.ids, head: out.head };
  }

  /** The reading that began at `head` succeeded: the next one asks after it. */
  advance(head: number): void {
    this.position = head;
  }
}

/**
 * An instance's row read from the instance itself (`describe`), or undefined when it is no
 * running Custodia instance (finished, gone, another workflow type). With `current`, its search
 * attributes as the instance holds them now (the upserted ones may lag it by up to a burst window,
 * `SEARCH_ATTRIBUTES_BURST_MS`).
 */
export async function describeRow(
  client: Client,
  id: string,
  now: Date,
  opts: { current?: boolean } = {},
): Promise<InstanceRow | undefined> {
  try {
    const handle = client.workflow.getHandle(id);
    const d = await viewQuery(() => handle.describe());
    if (d.type !== WORKFLOW_TYPE) return undefined;
    let attributes = d.typedSearchAttributes;
    // `current`: as the instance is now, not as last upserted (a query to its worker, for at most
    // `CURRENT_QUERY_MS`; as described when that fails: a worker without the query, none running).
    if (opts.current && d.status.name === 'RUNNING') {
      const values = await client
        .withDeadline(Date.now() + CURRENT_QUERY_MS, () => handle.query(searchAttributesQuery))
        .catch(() => undefined);
      if (values) attributes = withAttributeValues(attributes, values);
    }
    const row = instanceRow(
      { workflowId: id, status: d.status, typedSearchAttributes: attributes, memo: d.memo },
      now,
    );
    return row.status === 'RUNNING' ? row : undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** `describeRow` of each id, at most `concurrency` at a time; in the order of `ids`. */
export async function describeRows(
  client: Client,
  ids: readonly string[],
  now: Date,
  opts: { current?: boolean } = {},
  concurrency = 32,
): Promise<(InstanceRow | undefined)[]> {
  const rows: (InstanceRow | undefined)[] = new Array(ids.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, ids.length) }, async () => {
      while (next < ids.length) {
        const k = next++;
        rows[k] = await describeRow(client, ids[k]!, now, opts);
      }
    }),
  );
  return rows;
}
