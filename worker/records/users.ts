/**
 * The user directory and sessions. Every change to a user appends an `admin` record to the audit
 * chain in the same transaction, with the values `before` and `after` (never the password or its
 * hash); a password change or a disabling ends the user's sessions. Session ids are kept only as
 * their SHA-256. User ids are canonical (`identity.ts`): stored and looked up in that form, so
 * `Alice` and `alice` are one user.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendAudit, lockChainHead } from './audit.ts';
import { RecordsError } from './errors.ts';
import { canonicalUserId } from './identity.ts';
import { burnVerification, checkPasswordPolicy, hashPassword, verifyPassword } from './passwords.ts';
import type { SqlClient, SqlQueryable } from './sql.ts';
import { ADMIN_ROLE, rolesProblem, type RoleSet } from '../roles.ts';
import type { NewUser, PasswordVerifier, Role, Session, User } from './types.ts';
import type { Json } from '../../workflows/core/ir.ts';

const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const CLIENT_ID = /^\S(.{0,126}\S)?$/;

interface UserRow {
  id: string;
  display_name: string;
  roles: Role[];
  disabled: boolean;
  created_at: Date;
  clients: string[] | null;
}

const SELECT_USERS = `
  SELECT u.id, u.display_name, u.roles, u.disabled, u.created_at,
         (SELECT json_agg(c.client ORDER BY c.client) FROM user_clients c WHERE c.user_id = u.id) AS clients
  FROM users u`;

function fromRow(r: UserRow): User {
  return {
    id: r.id,
    displayName: r.display_name,
    roles: r.roles,
    clients: r.clients ?? [],
    disabled: r.disabled,
    createdAt: new Date(r.created_at).toISOString(),
  };
}

export function validateUserId(id: string): void {
  if (!USER_ID.test(id))
    throw new RecordsError(
      'INVALID_INPUT',
      `invalid user id "${id}": 1–64 characters, letters, digits and . _ @ - (not first)`,
    );
}

const ROLE_ID = /^[a-z][a-z0-9_]*$/;

/**
 * At least one role, each a role id (lower_snake_case, as definitions declare them); with `known`
 * (the caller's `knownRoles(…)`: the definitions' roles and the engine's), each one of those. Which
 * roles exist is not the store's to know: it comes from the definitions the product runs.
 */
export function validateRoles(roles: readonly string[], known?: RoleSet): Role[] {
  const malformed = roles.filter((r) => !ROLE_ID.test(r));
  if (malformed.length)
    throw new RecordsError(
      'INVALID_INPUT',
      `invalid role id(s) ${malformed.join(', ')}: lower_snake_case, e.g. quality_manager`,
    );
  const problem = known
    ? rolesProblem(roles, known)
    : roles.length
      ? undefined
      : 'a user needs at least one role';
  if (problem) throw new RecordsError('INVALID_INPUT', problem);
  return [...new Set(roles)];
}

export function validateClients(clients: readonly string[]): string[] {
  const bad = clients.filter((c) => !CLIENT_ID.test(c));
  if (bad.length)
    throw new RecordsError(
      'INVALID_INPUT',
      `invalid client id(s) ${bad.map((c) => JSON.stringify(c)).join(', ')}`,
    );
  return [...new Set(clients)].sort();
}

export async function getUser(db: SqlQueryable, id: string): Promise<User | undefined> {
  const [row] = await db.query<UserRow>(`${SELECT_USERS} WHERE u.id = $1`, [canonicalUserId(id)]);
  return row && fromRow(row);
}

export async function listUsers(db: SqlQueryable): Promise<User[]> {
  return (await db.query<UserRow>(`${SELECT_USERS} ORDER BY u.id`)).map(fromRow);
}

export async function mustGet(db: SqlQueryable, id: string): Promise<User> {
  const user = await getUser(db, id);
  if (!user) throw new RecordsError('UNKNOWN_USER', `no user "${id}"`);
  return user;
}

/** What a user change audits as its `before` and `after` (never the password). */
function auditedValues(u: User): Record<string, Json> {
  return { displayName: u.displayName, roles: u.roles, clients: u.clients, disabled: u.disabled };
}

/** Append a user change (`act`, `before`, `after`) to the audit chain, in the caller's transaction. */
export async function audit(
  tx: SqlQueryable,
  userId: string,
  by: string,
  body: Record<string, Json> & { before: Json; after: Json },
): Promise<void> {
  const head = await lockChainHead(tx);
  await appendAudit(tx, head, {
    kind: 'admin',
    subject: `user:${userId}`,
    actorId: by,
    at: new Date().toISOString(),
    body,
  });
}

/** A new user's values, checked and the password hashed (outside any transaction: hashing is slow). */
export interface PreparedUser {
  /** As given, for the message when the canonical id exists. */
  givenId: string;
  id: string;
  displayName: string;
  roles: Role[];
  clients: string[];
  passwordHash: string;
}

/** Check a new user's values against the rules and hash the password. */
export async function prepareUser(u: NewUser, known?: RoleSet): Promise<PreparedUser> {
  const id = canonicalUserId(u.id);
  validateUserId(id);
  const displayName = u.displayName.trim();
  if (!displayName) throw new RecordsError('INVALID_INPUT', 'a user needs a display name');
  const roles = validateRoles(u.roles, known);
  const clients = validateClients(u.clients ?? []);
  checkPasswordPolicy(u.password);
  return { givenId: u.id, id, displayName, roles, clients, passwordHash: await hashPassword(u.password) };
}

/** Insert a prepared user and audit it as `user.create` (in the caller's transaction). */
export async function insertUser(tx: SqlQueryable, p: PreparedUser, by: string): Promise<User> {
  const { id, displayName, roles, clients } = p;
  const now = new Date().toISOString();
  const inserted = await tx.query(
    `INSERT INTO users (id, display_name, roles, password_hash, created_at, updated_at)
     VALUES ($1, $2, $3::jsonb, $4, $5, $5) ON CONFLICT (id) DO NOTHING RETURNING id`,
    [id, displayName, JSON.stringify(roles), p.passwordHash, now],
  );
  if (!inserted.length)
    throw new RecordsError(
      'USER_EXISTS',
      id === p.givenId
        ? `user "${id}" already exists`
        : `user "${id}" already exists ("${p.givenId}" is the same id: ids ignore case and surrounding spaces)`,
    );
  for (const client of clients)
    await tx.query('INSERT INTO user_clients (user_id, client) VALUES ($1, $2)', [id, client]);
  const created = await mustGet(tx, id);
  await audit(tx, id, by, {
    act: 'user.create',
    user: id,
    displayName,
    roles,
    clients,
    before: null,
    after: auditedValues(created),
  });
  return created;
}

export async function createUser(sql: SqlClient, u: NewUser, by: string, known?: RoleSet): Promise<User> {
  const prepared = await prepareUser(u, known);
  return sql.transaction((tx) => insertUser(tx, prepared, by));
}

export async function setPassword(
  sql: SqlClient,
  userId: string,
  password: string,
  by: string,
): Promise<void> {
  checkPasswordPolicy(password);
  const hash = await hashPassword(password);
  userId = canonicalUserId(userId);
  await sql.transaction(async (tx) => {
    await mustGet(tx, userId);
    await tx.query('UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1', [userId, hash]);
    await tx.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
    await audit(tx, userId, by, {
      act: 'user.password',
      user: userId,
      before: { password: 'previous' },
      after: { password: 'changed' },
    });
  });
}

export async function checkPassword(
  db: SqlQueryable,
  userId: string,
  password: string,
  verifier: PasswordVerifier = { verify: verifyPassword, burn: burnVerification },
): Promise<User | undefined> {
  userId = canonicalUserId(userId);
  const [row] = await db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [
    userId,
  ]);
  if (!row) {
    await verifier.burn(password);
    return undefined;
  }
  if (!(await verifier.verify(password, row.password_hash))) return undefined;
  const user = await getUser(db, userId);
  return user && !user.disabled ? user : undefined;
}

export async function assignClients(
  sql: SqlClient,
  userId: string,
  clients: string[],
  by: string,
): Promise<User> {
  const next = validateClients(clients);
  userId = canonicalUserId(userId);
  return sql.transaction(async (tx) => {
    const before = await mustGet(tx, userId);
    await tx.query('DELETE FROM user_clients WHERE user_id = $1', [userId]);
    for (const client of next)
      await tx.query('INSERT INTO user_clients (user_id, client) VALUES ($1, $2)', [userId, client]);
    const after = await mustGet(tx, userId);
    await audit(tx, userId, by, {
      act: 'user.assign',
      user: userId,
      clients: next,
      previous: before.clients,
      before: auditedValues(before),
      after: auditedValues(after),
    });
    return after;
  });
}

export async function setRoles(
  sql: SqlClient,
  userId: string,
  roles: Role[],
  by: string,
  known?: RoleSet,
): Promise<User> {
  const next = validateRoles(roles, known);
  userId = canonicalUserId(userId);
  return sql.transaction(async (tx) => {
    const before = await mustGet(tx, userId);
    await tx.query('UPDATE users SET roles = $2::jsonb, updated_at = now() WHERE id = $1', [
      userId,
      JSON.stringify(next),
    ]);
    const after = await mustGet(tx, userId);
    await audit(tx, userId, by, {
      act: 'user.roles',
      user: userId,
      roles: next,
      previous: before.roles,
      before: auditedValues(before),
      after: auditedValues(after),
    });
    return after;
  });
}

export async function setDisabled(
  sql: SqlClient,
  userId: string,
  disabled: boolean,
  by: string,
): Promise<User> {
  userId = canonicalUserId(userId);
  return sql.transaction(async (tx) => {
    const before = await mustGet(tx, userId);
    await tx.query('UPDATE users SET disabled = $2, updated_at = now() WHERE id = $1', [userId, disabled]);
    if (disabled) await tx.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
    const after = await mustGet(tx, userId);
    await audit(tx, userId, by, {
      act: disabled ? 'user.disable' : 'user.enable',
      user: userId,
      before: auditedValues(before),
      after: auditedValues(after),
    });
    return after;
  });
}

/** The stored form of a session id. */
function sessionKey(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

export async function createSession(db: SqlQueryable, userId: string, ttlMs: number): Promise<Session> {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new RecordsError(
      'INVALID_INPUT',
      `session lifetime must be a positive number of ms (got ${ttlMs})`,
    );
  userId = canonicalUserId(userId);
  const user = await getUser(db, userId);
  if (!user || user.disabled) throw new RecordsError('UNKNOWN_USER', `no enabled user "${userId}"`);
  const created = new Date();
  const session: Session = {
    id: randomBytes(32).toString('base64url'),
    userId,
    csrfToken: randomBytes(32).toString('base64url'),
    createdAt: created.toISOString(),
    expiresAt: new Date(created.getTime() + ttlMs).toISOString(),
  };
  await db.query(
    `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
    [sessionKey(session.id), userId, session.csrfToken, session.createdAt, session.expiresAt],
  );
  return session;
}

export async function getSession(db: SqlQueryable, id: string): Promise<Session | undefined> {
  const [row] = await db.query<{ user_id: string; csrf_token: string; created_at: Date; expires_at: Date }>(
    `SELECT s.user_id, s.csrf_token, s.created_at, s.expires_at
     FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id_hash = $1 AND s.expires_at > $2 AND NOT u.disabled`,
    [sessionKey(id), new Date().toISOString()],
  );
  if (!row) return undefined;
  return {
    id,
    userId: row.user_id,
    csrfToken: row.csrf_token,
    createdAt: new Date(row.created_at).toISOString(),
    expiresAt: new Date(row.expires_at).toISOString(),
  };
}

export async function deleteSession(db: SqlQueryable, id: string): Promise<void> {
  await db.query('DELETE FROM sessions WHERE id_hash = $1', [sessionKey(id)]);
}

export async function deleteSessionsOf(db: SqlQueryable, userId: string): Promise<number> {
  return (await db.query('DELETE FROM sessions WHERE user_id = $1 RETURNING id_hash', [userId])).length;
}

export async function deleteExpiredSessions(db: SqlQueryable): Promise<number> {
  const rows = await db.query('DELETE FROM sessions WHERE expires_at <= $1 RETURNING id_hash', [
    new Date().toISOString(),
  ]);
  return rows.length;
}

/** What `updateUser` may change; absent fields stay as they are. */
export interface UserPatch {
  displayName?: string;
  roles?: Role[];
  clients?: string[];
  disabled?: boolean;
}

/** Enabled users holding the admin role (in `tx`). */
async function enabledAdmins(tx: SqlQueryable): Promise<number> {
  const [row] = await tx.query<{ n: number }>(
    `SELECT count(*)::integer AS n FROM users WHERE NOT disabled AND roles ? $1`,
    [ADMIN_ROLE],
  );
  return row?.n ?? 0;
}

const isEnabledAdmin = (u: User): boolean => !u.disabled && u.roles.includes(ADMIN_ROLE);

/**
 * Change a user's display name, roles, clients and/or enabled state in one transaction, audited as
 * one `user.update` with the values before and after (nothing is written when nothing changes).
 * Refused, with nothing changed: disabling yourself (`SELF_DISABLE`), and any change that leaves
 * no enabled administrator (`LAST_ADMIN`). Disabling ends the user's sessions.
 */
export async function updateUser(
  sql: SqlClient,
  userId: string,
  patch: UserPatch,
  by: string,
  known?: RoleSet,
): Promise<User> {
  userId = canonicalUserId(userId);
  const displayName = patch.displayName?.trim();
  if (displayName === '') throw new RecordsError('INVALID_INPUT', 'a user needs a display name');
  const roles = patch.roles && validateRoles(patch.roles, known);
  const clients = patch.clients && validateClients(patch.clients);
  if (patch.disabled && canonicalUserId(by) === userId)
    throw new RecordsError(
      'SELF_DISABLE',
      'you cannot disable your own account: another administrator must do it',
    );
  return sql.transaction(async (tx) => {
    // The chain head's lock orders every audited change: two admins cannot disable each other at once.
    await lockChainHead(tx);
    const before = await mustGet(tx, userId);
    const changed: string[] = [];
    if (displayName !== undefined && displayName !== before.displayName) {
      await tx.query('UPDATE users SET display_name = $2, updated_at = now() WHERE id = $1', [
        userId,
        displayName,
      ]);
      changed.push('displayName');
    }
    if (roles && JSON.stringify(roles) !== JSON.stringify(before.roles)) {
      await tx.query('UPDATE users SET roles = $2::jsonb, updated_at = now() WHERE id = $1', [
        userId,
        JSON.stringify(roles),
      ]);
      changed.push('roles');
    }
    if (clients && clients.join('\n') !== before.clients.join('\n')) {
      await tx.query('DELETE FROM user_clients WHERE user_id = $1', [userId]);
      for (const client of clients)
        await tx.query('INSERT INTO user_clients (user_id, client) VALUES ($1, $2)', [userId, client]);
      changed.push('clients');
    }
    if (patch.disabled !== undefined && patch.disabled !== before.disabled) {
      await tx.query('UPDATE users SET disabled = $2, updated_at = now() WHERE id = $1', [
        userId,
        patch.disabled,
      ]);
      if (patch.disabled) await tx.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
      changed.push('disabled');
    }
    if (!changed.length) return before;
    const after = await mustGet(tx, userId);
    if (isEnabledAdmin(before) && !isEnabledAdmin(after) && (await enabledAdmins(tx)) === 0)
      throw new RecordsError(
        'LAST_ADMIN',
        `"${userId}" is the last enabled administrator: give another user the admin role first`,
      );
    await audit(tx, userId, by, {
      act: 'user.update',
      user: userId,
      changed,
      before: auditedValues(before),
      after: auditedValues(after),
    });
    return after;
  });
}
