/** `custodia list` — instances from Temporal visibility, filtered by Custodia's search attributes. */
import { listInstances, type ListFilter } from '../visibility.ts';
import { connect, parseOptions, UsageError } from './options.ts';

export async function listCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    procedure: { type: 'string' },
    state: { type: 'string' },
    client: { type: 'string' },
    awaiting: { type: 'string' },
    stalled: { type: 'boolean' },
    idle: { type: 'string' },
    all: { type: 'boolean' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length) throw new UsageError(`list takes no arguments (got ${positionals.join(' ')})`);
  const limit = values.limit === undefined ? 100 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
  const filter: ListFilter = {};
  for (const k of ['procedure', 'state', 'client', 'awaiting', 'idle'] as const)
    if (typeof values[k] === 'string') filter[k] = values[k];
  if (values.stalled) filter.stalled = true;
  if (values.all) filter.all = true;
  const { client } = await connect();
  try {
    const rows = await listInstances(client, filter, limit);
    if (values.json) {
      console.log(JSON.stringify(rows, null, 2));
      return 0;
    }
    const table = [
      ['WORKFLOW ID', 'PROCEDURE', 'STATE', 'AWAITING', 'SINCE', 'DUE'],
      ...rows.map((r) => [
        r.workflowId,
        `${r.procedure ?? '?'}@${r.version ?? '?'}`,
        r.status === 'RUNNING' ? r.state.join(',') : r.status.toLowerCase(),
        r.awaiting.join(',') || '-',
        r.stateSince ?? '-',
        r.dueAt ? `${r.dueAt}${r.overdue ? ' OVERDUE' : ''}` : '-',
      ]),
    ];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table)
      console.log(
        row
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      );
    if (!rows.length) console.log('(no instances)');
    return 0;
  } finally {
    await client.connection.close();
  }
}
