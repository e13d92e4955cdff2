import { Client, Connection } from '@temporalio/client';
import { performance } from 'node:perf_hooks';
import { buildListQuery, listPage } from './worker/visibility.ts';
const connection = await Connection.connect({ address: '127.0.0.1:17433' });
const client = new Client({ connection, namespace: 'default' });
const now = new Date();
const q = buildListQuery({}, now);
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  const res = await client.workflowService.listWorkflowExecutions({ namespace: 'default', query: q, pageSize: 1000 });
  const rpc = performance.now() - t;
  t = performance.now();
  await listPage(client, q, 1000);
  const full = performance.now() - t;
  t = performance.now();
  await client.workflowService.listWorkflowExecutions({ namespace: 'default', query: q, pageSize: 100 });
  const rpc100 = performance.now() - t;
  t = performance.now();
  await client.workflowService.listWorkflowExecutions({ namespace: 'default', query: `WorkflowType = 'procedure'`, pageSize: 1000 });
  const typeOnly = performance.now() - t;
  console.log(`rpc1000 ${rpc.toFixed(0)} full ${full.toFixed(0)} rpc100 ${rpc100.toFixed(0)} typeOnly1000 ${typeOnly.toFixed(0)} bytes ${JSON.stringify(res.executions?.[0]).length}`);
}
await connection.close();
