/** `custodia setup` — register Custodia's search attributes on the configured cluster (idempotent). */
import { connectionOptions, loadConfig } from '../config.ts';
import { ensureSearchAttributes } from '../temporal/dev-server.ts';

export async function setupCommand(_args: string[]): Promise<number> {
  const config = loadConfig();
  const result = await ensureSearchAttributes(connectionOptions(config), config.namespace);
  console.log(
    `search attributes on ${config.namespace}: created ${result.created.join(', ') || 'none'}; ` +
      `already there ${result.existing.join(', ') || 'none'}`,
  );
  return 0;
}
