/**
 * `custodia setup` — prepare the configured cluster (idempotent): register Custodia's search
 * attributes, and create / update / remove the Temporal Schedules the deployed definitions declare.
 */
import { connectionOptions, loadConfig } from '../config.ts';
import { ensureSearchAttributes } from '../temporal/dev-server.ts';
import { loadDeployedDefinitions } from '../process.ts';
import { syncSchedules } from '../schedules.ts';
import { connect } from './options.ts';

export async function setupCommand(_args: string[]): Promise<number> {
  const config = loadConfig();
  const result = await ensureSearchAttributes(connectionOptions(config), config.namespace);
  console.log(
    `search attributes on ${config.namespace}: created ${result.created.join(', ') || 'none'}; ` +
      `already there ${result.existing.join(', ') || 'none'}`,
  );
  const definitions = loadDeployedDefinitions();
  const { client } = await connect();
  try {
    const s = await syncSchedules(client, definitions.values(), config.taskQueue);
    console.log(
      `schedules: created ${s.created.join(', ') || 'none'}; updated ${s.updated.join(', ') || 'none'}; ` +
        `removed ${s.deleted.join(', ') || 'none'}`,
    );
  } finally {
    await client.connection.close();
  }
  return 0;
}
