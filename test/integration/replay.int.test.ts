/**
 * Determinism: every history recorded under test/replay/ (from integration runs, see
 * `npm run record-histories`) must replay against the current workflow code. A change that
 * would alter replay needs `patched()` or a new workflow type.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { installRuntime } from '../../worker/process.ts';
import { workflowBundle } from '../../worker/worker.ts';
import { REPLAY_DIR } from './record-history.ts';

installRuntime({ CUSTODIA_LOG_LEVEL: process.env.CUSTODIA_LOG_LEVEL ?? 'WARN' });

const files = readdirSync(REPLAY_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('replay of recorded histories', () => {
  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it.each(files)('%s replays deterministically', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(REPLAY_DIR, file), 'utf8')));
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: await workflowBundle() },
        history,
        // The workflow id it was recorded under: the name before any variant suffix
        // (`name.v1.json`, `name.pre-generation.json`: the history of older code, kept).
        path.basename(file, '.json').split('.')[0],
      ),
    ).resolves.toBeUndefined();
  });
});
