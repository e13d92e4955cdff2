/** Shared CLI plumbing: usage errors, strict option parsing, JSON options, connecting. */
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import type { CustodiaConfig } from '../config.ts';

/** Bad usage: printed with a pointer to `custodia help`, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parse options strictly, turning node's errors into usage errors. */
export function parseOptions<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(
  args: string[],
  options: T,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Parse a JSON object option, with a message that names the option. */
export function jsonObjectOption(
  name: string,
  text: string | boolean | undefined,
): Record<string, never> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(String(text));
  } catch (err) {
    throw new UsageError(`--${name} is not valid JSON: ${(err as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError(`--${name} must be a JSON object, e.g. '{"key": "value"}'`);
  return value as Record<string, never>;
}

/** Connect to the configured cluster (the local dev server `npm start` runs, by default). */
export async function connect(): Promise<{ config: CustodiaConfig; client: Client }> {
  // Loaded here, not at the top: commands that never connect (validate, verify, …) then never
  // load the Temporal client (~1 s of module loading).
  const { connectClient, loadConfig } = await import('../config.ts');
  const config = loadConfig();
  try {
    return { config, client: await connectClient(config) };
  } catch (err) {
    throw new Error(
      `cannot reach Temporal (${config.address ?? 'the local dev server'}): ${(err as Error).message}. ` +
        'Is `npm start` running, or TEMPORAL_ADDRESS set?',
    );
  }
}
