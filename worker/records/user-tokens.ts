/**
 * One-time tokens (schema v4, `user_tokens`): the setup link that creates the first administrator
 * and the password-reset links an administrator issues. A token is 256 random bits (base64url),
 * shown once to whoever issued it; the store keeps only its SHA-256. Good once, before its expiry;
 * a newer token of the same purpose (and user) voids the older ones.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lockChainHead } from './audit.ts';
import { RecordsError } from './errors.ts';
import { canonicalUserId } from './identity.ts';
import { checkPasswordPolicy, hashPassword } from './passwords.ts';
import type { SqlClient, SqlQueryable } from './sql.ts';
import type { NewUser, User } from './types.ts';
import { audit, insertUser, mustGet, prepareUser } from './users.ts';
import { ADMIN_ROLE } from '../roles.ts';

/** The setup link is good for one hour. */
export const SETUP_TOKEN_TTL_MS = 3600_000;
/** A password-reset link is good for 24 hours. */
export const RESET_TOKEN_TTL_MS = 24 * 3600_000;

export type TokenPurpose = 'setup' | 'password_reset';

export interface IssuedToken {
  /** The secret itself: shown once, never stored. */
  token: string;
  expiresAt: string;
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

function tokenKey(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const invalid = (): RecordsError =>
  new RecordsError(
    'TOKEN_INVALID',
    'this link is unknown, used, expired or replaced by a newer one: ask for a new link',
  );

async function hasUsers(db: SqlQueryable): Promise<boolean> {
  return (await db.query('SELECT 1 FROM users LIMIT 1')).length > 0;
}

async function insertToken(
  tx: SqlQueryable,
  purpose: TokenPurpose,
  userId: string | null,
  by: string,
  ttlMs: number,
): Promise<IssuedToken> {
  const token = randomBytes(32).toString('base64url');
  const created = new Date();
  const expiresAt = new Date(created.getTime() + ttlMs).toISOString();
  await tx.query(
    `INSERT INTO user_tokens (token_hash, purpose, user_id, issued_by, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [tokenKey(token), purpose, userId, by, created.toISOString(), expiresAt],
  );
  return { token, expiresAt };
}

/** The unused, unexpired token's user (null for setup), or undefined. */
async function liveToken(
  db: SqlQueryable,
  purpose: TokenPurpose,
  token: string,
): Promise<{ user_id: string | null } | undefined> {
  if (!TOKEN.test(token)) return undefined;
  const [row] = await db.query<{ user_id: string | null }>(
    `SELECT user_id FROM user_tokens
     WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3`,
    [tokenKey(token), purpose, new Date().toISOString()],
  );
  return row;
}

/**
 * A new setup token when the store has no user yet (older unused ones are void), else undefined:
 * the first administrator exists, there is nothing to set up.
 */
export async function issueSetupToken(
  sql: SqlClient,
  by = 'custodia',
  ttlMs = SETUP_TOKEN_TTL_MS,
): Promise<IssuedToken | undefined> {
  return sql.transaction(async (tx) => {
    await lockChainHead(tx);
    if (await hasUsers(tx)) return undefined;
    await tx.query(`DELETE FROM user_tokens WHERE purpose = 'setup' AND used_at IS NULL`);
    return insertToken(tx, 'setup', null, by, ttlMs);
  });
}

/** Whether the first administrator still has to be created. */
export async function setupPending(db: SqlQueryable): Promise<boolean> {
  return !(await hasUsers(db));
}

/**
 * Create the first administrator (roles: admin) with a setup token; every setup token is void
 * afterwards. `SETUP_DONE` once any user exists; `TOKEN_INVALID` for a token that is not live.
 */
export async function createFirstAdmin(
  sql: SqlClient,
  token: string,
  u: Omit<NewUser, 'roles' | 'clients'>,
): Promise<User> {
  const done = (): RecordsError =>
    new RecordsError('SETUP_DONE', 'an administrator exists already: setup is over, sign in instead');
  if (await hasUsers(sql)) throw done();
  if (!(await liveToken(sql, 'setup', token))) throw invalid();
  const prepared = await prepareUser({ ...u, roles: [ADMIN_ROLE], clients: [] });
  return sql.transaction(async (tx) => {
    await lockChainHead(tx);
    if (await hasUsers(tx)) throw done();
    if (!(await liveToken(tx, 'setup', token))) throw invalid();
    const user = await insertUser(tx, prepared, `setup:${prepared.id}`);
    await tx.query(`UPDATE user_tokens SET used_at = now() WHERE purpose = 'setup' AND used_at IS NULL`);
    return user;
  });
}

/**
 * A password-reset token for an enabled user (older unused ones for that user are void), audited
 * as `user.password_reset_link` (the token itself is never recorded).
 */
export async function issuePasswordReset(
  sql: SqlClient,
  userId: string,
  by: string,
  ttlMs = RESET_TOKEN_TTL_MS,
): Promise<IssuedToken> {
  userId = canonicalUserId(userId);
  return sql.transaction(async (tx) => {
    await lockChainHead(tx);
    const user = await mustGet(tx, userId);
    if (user.disabled)
      throw new RecordsError('INVALID_INPUT', `"${userId}" is disabled: enable the account first`);
    const voided = await tx.query(
      `DELETE FROM user_tokens WHERE purpose = 'password_reset' AND user_id = $1 AND used_at IS NULL
       AND expires_at > $2 RETURNING token_hash`,
      [userId, new Date().toISOString()],
    );
    const issued = await insertToken(tx, 'password_reset', userId, by, ttlMs);
    await audit(tx, userId, by, {
      act: 'user.password_reset_link',
      user: userId,
      before: { resetLink: voided.length ? 'pending' : 'none' },
      after: { resetLink: 'issued', expiresAt: issued.expiresAt },
    });
    return issued;
  });
}

/**
 * Set a new password with a reset token (used up; the user's sessions end), audited as
 * `user.password` by the user, `via: reset_link`. Returns the user.
 */
export async function resetPassword(sql: SqlClient, token: string, password: string): Promise<User> {
  const live = await liveToken(sql, 'password_reset', token);
  if (!live?.user_id) throw invalid();
  checkPasswordPolicy(password);
  const hash = await hashPassword(password);
  return sql.transaction(async (tx) => {
    await lockChainHead(tx);
    const row = await liveToken(tx, 'password_reset', token);
    const user = row?.user_id ? await mustGet(tx, row.user_id) : undefined;
    if (!user || user.disabled) throw invalid();
    await tx.query('UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1', [user.id, hash]);
    await tx.query('DELETE FROM sessions WHERE user_id = $1', [user.id]);
    await tx.query('UPDATE user_tokens SET used_at = now() WHERE token_hash = $1', [tokenKey(token)]);
    await audit(tx, user.id, user.id, {
      act: 'user.password',
      user: user.id,
      via: 'reset_link',
      before: { password: 'previous' },
      after: { password: 'changed' },
    });
    return user;
  });
}
