/**
 * Acting as a directory user: whoever signs an actor assertion outside the API (`custodia send`,
 * `custodia token`, the API's own check for them) first asks the user directory that the user
 * exists, is enabled and holds the roles. One rule, used by the CLI with the store it opens and by
 * the API (`POST /api/actors/check`) for a CLI that cannot open the store `npm start` holds.
 */
import type { Actor } from '../workflows/core/ir.ts';
import type { RecordsStore } from './records/types.ts';

/** Someone the CLI may not act as: not in the directory, disabled, or without the role. */
export class NotADirectoryActor extends Error {
  override name = 'NotADirectoryActor';
}

/**
 * The actor `claimed` as the directory knows it: the user exists, is enabled and holds every
 * claimed role. With no role claimed: all the user's roles when `allRolesWhenNone`, else none.
 */
export async function directoryActor(
  store: RecordsStore,
  claimed: Actor,
  opts: { allRolesWhenNone?: boolean } = {},
): Promise<Actor> {
  const user = await store.getUser(claimed.id);
  if (!user) throw new NotADirectoryActor(`no user "${claimed.id}" in the directory`);
  if (user.disabled) throw new NotADirectoryActor(`user "${user.id}" is disabled`);
  const held: readonly string[] = user.roles;
  const notHeld = claimed.roles.filter((r) => !held.includes(r));
  if (notHeld.length)
    throw new NotADirectoryActor(
      `${user.id} does not hold the role(s) ${notHeld.join(', ')} (holds ${held.join(', ') || 'none'})`,
    );
  const roles = claimed.roles.length || !opts.allRolesWhenNone ? claimed.roles : [...held];
  return { id: user.id, roles: [...new Set(roles)] };
}
