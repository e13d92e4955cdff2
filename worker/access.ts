/**
 * Who sees what (4.4.2, 4.2.3): client isolation and the API's permissions, in one place. Staff
 * whose roles are not among `ALL_CLIENT_ROLES` see and act on instances of their assigned clients
 * only; instances of procedures without a client field are not client-confidential and visible to
 * every signed-in user. Every API route, visibility query and audit read asks here.
 */
import { ALL_CLIENT_ROLES, type User } from './records/types.ts';
import { quote } from './visibility.ts';

/** The engine's own role that deploys definitions and manages users. */
const ADMIN_ROLE = 'admin';

/** Whether the user sees every client's instances. */
export function seesAllClients(user: User): boolean {
  return user.roles.some((r) => ALL_CLIENT_ROLES.includes(r));
}

/** Whether the user holds the admin role. */
export function isAdmin(user: User): boolean {
  return user.roles.includes(ADMIN_ROLE);
}

/**
 * Whether the user may see and act on an instance (or audit records) of `client`; `undefined`:
 * no client (not client-confidential).
 */
export function mayAccessClient(user: User, client: string | undefined): boolean {
  return client === undefined || seesAllClients(user) || user.clients.includes(client);
}

/**
 * The visibility clause limiting a query to what the user may see (instances without a client are
 * shared), or undefined when the user sees every client.
 */
export function isolationClause(user: User): string | undefined {
  if (seesAllClients(user)) return undefined;
  if (!user.clients.length) return 'CustodiaClient IS NULL';
  return `(CustodiaClient IN (${user.clients.map(quote).join(', ')}) OR CustodiaClient IS NULL)`;
}

/** What a signed-in user may need beyond signing in to call an API route. */
export type Permission = 'admin' | 'verifyAuditChain';

export interface PermissionRule {
  /** Whether the user holds it. */
  holds(user: User): boolean;
  /** The problem code when not (403). */
  code: string;
  /** Who holds it, for people and the OpenAPI document. */
  holders: string;
}

export const PERMISSIONS: Record<Permission, PermissionRule> = {
  admin: { holds: isAdmin, code: 'NOT_ADMIN', holders: 'users with the admin role' },
  // The whole chain spans every client: for those who see every client, and admins.
  verifyAuditChain: {
    holds: (user) => seesAllClients(user) || isAdmin(user),
    code: 'NOT_ALLOWED',
    holders: `users who see every client (${ALL_CLIENT_ROLES.join(', ')}) and admins`,
  },
};
