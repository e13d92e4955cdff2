/**
 * Setup file of the `cluster` project (runs in each test file's process): the environment that
 * `loadConfig()`, the CLI child processes and the records tests read names the cluster — the
 * main process's `process.env` names the integration project's dev server (see global-setup.ts).
 */
import { inject } from 'vitest';

process.env.TEMPORAL_ADDRESS = inject('temporalAddress');
process.env.TEMPORAL_NAMESPACE = inject('temporalNamespace');
const binary = inject('temporalBinary');
if (binary) process.env.TEMPORAL_BINARY = binary;
const key = inject('clusterActorKey');
if (key) process.env.CUSTODIA_ACTOR_KEY = key;
delete process.env.CUSTODIA_ACTOR_PUBLIC_KEYS;
const pgUrl = inject('postgresUrl');
if (pgUrl) process.env.CUSTODIA_TEST_DATABASE_URL = pgUrl;
