/**
 * Setup file of the `cluster` project (runs in each test file's process): the environment that
 * `loadConfig()`, the CLI child processes and the records tests read names the cluster — the
 * main process's `process.env` names the integration project's dev server (see global-setup.ts).
 *
 * The project's files run one at a time (they hold one lock), beside the other projects' files:
 * the chaos test SIGKILLs the cluster's Temporal server, which the others use.
 */
import { inject } from 'vitest';
import { holdLockForFile } from '../support/file-lock.ts';

await holdLockForFile(inject('clusterLockDir'));

process.env.TEMPORAL_ADDRESS = inject('temporalAddress');
process.env.TEMPORAL_NAMESPACE = inject('temporalNamespace');
const binary = inject('temporalBinary');
if (binary) process.env.TEMPORAL_BINARY = binary;
const key = inject('clusterActorKey');
if (key) process.env.CUSTODIA_ACTOR_KEY = key;
delete process.env.CUSTODIA_ACTOR_PUBLIC_KEYS;
const pgUrl = inject('postgresUrl');
if (pgUrl) process.env.CUSTODIA_TEST_DATABASE_URL = pgUrl;
