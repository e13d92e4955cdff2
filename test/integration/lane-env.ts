/**
 * Setup file of the `integration` and `browser` projects (runs in each test file's process, before
 * the file): the file's Temporal server is its lane's (`laneTemporalAddress()`, see
 * `global-setup.ts`), also in `process.env.TEMPORAL_ADDRESS` for `loadConfig()` and the child
 * processes the file spawns.
 */
import { laneTemporalAddress } from './harness.ts';

process.env.TEMPORAL_ADDRESS = laneTemporalAddress();
