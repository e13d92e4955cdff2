/**
 * Recording histories for the replay tests: with RECORD_HISTORIES=1 (`npm run record-histories`),
 * integration tests save the histories of the instances they ran under `test/replay/`.
 * Commit them: every later run replays them against the current workflow code.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { REPO_ROOT } from '../../worker/config.ts';

export const REPLAY_DIR = path.join(REPO_ROOT, 'test/replay');

export async function recordHistory(client: Client, workflowId: string, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  writeFileSync(path.join(REPLAY_DIR, `${name}.json`), historyToJSON(history) + '\n');
}
