import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { listPage } from '../../worker/visibility.ts';
const connection = await Connection.connect({ address: '127.0.0.1:41921' });
const client = new Client({ connection, namespace: 'default' });
const now = new Date().toISOString();
const base = `WorkflowType = 'procedure' AND ExecutionStatus = 'Running'`;
const qs: Record<string, string> = {
  dueLt: `${base} AND CustodiaDueAt < '${now}'`,
  dueLtOr: `${base} AND (CustodiaDueAt < '${now}' OR CustodiaDueAt < '${now}')`,
  stalled: `${base} AND (CustodiaDueAt < '${now}' OR CustodiaStateSince < '${now}' OR CustodiaEscalation > 0)`,
  plain: base,
};
for (const [k, q] of Object.entries(qs)) {
  const t: number[] = [];
  for (let i = 0; i < 3; i++) { const t0 = performance.now(); await listPage(client, q, 100); t.push(performance.now() - t0); }
  const c: number[] = [];
  for (let i = 0; i < 2; i++) { const t0 = performance.now(); await client.workflow.count(q); c.push(performance.now() - t0); }
  console.log(k, 'page', t.map(Math.round), 'count', c.map(Math.round));
}
const t0 = performance.now(); let n = 0; let tok: string | undefined;
do { const p = await listPage(client, base, 1000, tok); n += p.rows.length; tok = p.nextPageToken; } while (tok);
console.log('full listing', n, Math.round(performance.now() - t0), 'ms');
await connection.close();
