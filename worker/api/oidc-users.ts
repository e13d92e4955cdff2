/**
 * Which users may sign in through the identity provider. The user record has no field for it (nor
 * for the provider's `sub`), so enrolment is an administrative act in the audit chain: an `admin`
 * record on subject `oidc:<user id>` with `{act: 'user.oidc', enabled}` — the latest one decides.
 * `custodia user create --oidc` enrols the user it creates. A password or admin account that was
 * never enrolled cannot be reached through a provider's claim, whatever the claim says.
 */
import type { RecordsStore } from '../records/types.ts';

export const OIDC_ENROLMENT_ACT = 'user.oidc';

const subjectOf = (userId: string): string => `oidc:${userId}`;

/** Allow (or, with `enabled` false, stop) sign-in of `userId` through the identity provider. */
export async function enrolOidcUser(
  store: RecordsStore,
  userId: string,
  by: string,
  enabled = true,
): Promise<void> {
  await store.appendAdminRecord({
    kind: 'admin',
    subject: subjectOf(userId),
    actorId: by,
    body: { act: OIDC_ENROLMENT_ACT, user: userId, enabled },
  });
}

/** Whether `userId` was enrolled for sign-in through the identity provider (and not since withdrawn). */
export async function isOidcUser(store: RecordsStore, userId: string): Promise<boolean> {
  const records = await store.audit({ kind: 'admin', subject: subjectOf(userId) });
  const last = records.filter((r) => r.body.act === OIDC_ENROLMENT_ACT).at(-1);
  return last?.body.enabled === true && last.body.user === userId;
}
