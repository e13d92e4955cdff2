/**
 * Schema version 4 (people): one-time tokens for the first administrator (`setup`) and for a
 * password reset (`password_reset`). Only each token's SHA-256 is stored, with its purpose, the
 * user it is for (none for setup), who issued it, its expiry and when it was used; a token is
 * good once, before its expiry. Issuing a new token of a purpose voids the unused ones of the same
 * purpose (and user), and creating the first administrator voids every setup token.
 *
 * Forward-only and independent of version 3 (notifications): the migration runner applies every
 * version it has not applied yet, so the two may arrive in either order.
 */
import type { SqlQueryable } from './sql.ts';

const USER_TOKENS = `
CREATE TABLE user_tokens (
  token_hash text PRIMARY KEY,
  purpose text NOT NULL CHECK (purpose IN ('setup', 'password_reset')),
  user_id text REFERENCES users (id),
  issued_by text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  CHECK ((purpose = 'setup') = (user_id IS NULL))
);
CREATE INDEX user_tokens_user ON user_tokens (user_id) WHERE user_id IS NOT NULL;
`;

export async function migrateV4(tx: SqlQueryable): Promise<void> {
  await tx.exec(USER_TOKENS);
}
