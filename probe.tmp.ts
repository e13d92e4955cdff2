import { Client, Connection } from '@temporalio/client';
import { performance } from 'node:perf_hooks';
import { buildListQuery, listPage, listRows, quote } from './worker/visibility.ts';
import { inboxQuery } from './worker/inbox.ts';
const connection = await Connection.connect({ address: '127.0.0.1:17433' });
const client = new Client({ connection, namespace: 'default' });
const ids = Array.from({ length: 125 }, (_, i) => quote(`scale-${i}`)).join(', ');
const live = inboxQuery({ userId: 'qm', roles: ['quality_manager'] }, 'all');
const now = new Date();
const variants: Record<string, () => Promise<unknown>> = {
  liveFirst: () => listRows(client, `${live} AND WorkflowId IN (${ids})`, 125),
  idsOnly: () => listRows(client, `WorkflowId IN (${ids})`, 125),
  idsType: () => listRows(client, `WorkflowType = 'procedure' AND WorkflowId IN (${ids})`, 125),
  stalledFirst: () => listPage(client, buildListQuery({ stalled: true, idle: 'PT0S' }, now), 100),
  instFirst: () => listPage(client, buildListQuery({}, now), 100),
  client03: () => listPage(client, buildListQuery({ client: 'Client 03' }, now), 100),
  overdue: () => listPage(client, buildListQuery({ overdue: true }, now), 100),
  count: () => client.workflow.count(buildListQuery({}, now)),
  page1000: () => listPage(client, buildListQuery({}, now), 1000),
};
for (const [name, f] of Object.entries(variants)) {
  const ms: number[] = [];
  for (let i = 0; i < 4; i++) {
    const t = performance.now();
    await f();
    ms.push(Math.round(performance.now() - t));
  }
  console.log(name.padEnd(14), ms.join(' '));
}
await connection.close();
