/**
 * `custodia token --as USER[:ROLE,…] [--workflow ID] [--ttl DURATION]` — print an actor assertion
 * for a directory user, to pass as `"assertion"` beside `actor` in the `event` update argument
 * from any Temporal client, e.g.
 *
 *   temporal workflow update execute --workflow-id ID --name event \
 *     --input '{"type":"SUBMIT","actor":{"id":"li","roles":["project_staff"]},"assertion":"…"}'
 *
 * The user must exist in the directory, be enabled and hold the roles (default: all theirs).
 * Without `--workflow` the assertion is good for any instance. `--ttl` is an ISO-8601 duration,
 * default PT15M, at most P1D. Signed with the actor key (`worker/actor-keys.ts`).
 */
import { parseDuration } from '../../workflows/core/duration.ts';
import { DEFAULT_ASSERTION_TTL_MS, MAX_ASSERTION_TTL_MS, actorSigner } from '../actor-keys.ts';
import { parseActor } from '../instances.ts';
import { directoryActor } from '../directory-actor.ts';
import { withStore } from './audit.ts';
import { parseOptions, UsageError } from './options.ts';

export async function tokenCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    as: { type: 'string' },
    workflow: { type: 'string' },
    ttl: { type: 'string' },
  });
  if (positionals.length) throw new UsageError('token takes no arguments besides its options');
  if (typeof values.as !== 'string') throw new UsageError('token needs --as USER[:ROLE,…]');
  const ttlMs = ttlOption(values.ttl);
  const claimed = parseActor(values.as);
  const actor = await withStore((store) => directoryActor(store, claimed, { allRolesWhenNone: true }));
  const workflowId = typeof values.workflow === 'string' ? values.workflow : undefined;
  console.log(actorSigner().sign(actor, { ttlMs, ...(workflowId !== undefined ? { workflowId } : {}) }));
  return 0;
}

function ttlOption(value: string | boolean | undefined): number {
  if (value === undefined) return DEFAULT_ASSERTION_TTL_MS;
  const ms = parseDuration(String(value));
  if (ms === undefined || ms < 1000 || ms > MAX_ASSERTION_TTL_MS)
    throw new UsageError(
      `--ttl must be an ISO-8601 duration from PT1S to P1D (e.g. PT15M), got "${String(value)}"`,
    );
  return ms;
}

export { directoryActor, NotADirectoryActor } from '../directory-actor.ts';
