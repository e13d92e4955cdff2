/**
 * Who sees what (4.4.2, 4.2.3): client isolation and the API's permissions, in one place. An
 * instance is visible to a user only when its data concerns only clients the user is assigned to:
 *
 * - an instance with a client: to users assigned to that client, and to the roles that see every
 *   client (configuration: `CUSTODIA_ALL_CLIENT_ROLES`, see `roles.ts`);
 * - an instance without a client: only to the roles that see every client — its data may still
 *   name clients (a supervision finding's description and evidence) — and, for procedures that
 *   have no client field at all (definitions-level work, e.g. a definition change), to admins.
 *
 * Every API route, visibility query and audit read asks here.
 */
import type { RecordScope } from './records/registers.ts';
import type { User } from './records/types.ts';
import { allClientRoles, AUDITOR_ROLE, isAdmin, seesAllClients } from './roles.ts';
import { quote } from './visibility.ts';

export { isAdmin, seesAllClients };

/** Whether the user may see data of `client` (a client's audit records, a client filter). */
export function mayAccessClient(user: User, client: string): boolean {
  return seesAllClients(user) || user.clients.includes(client);
}

/** What decides who sees an instance: its client, and whether its procedure has a client field. */
export interface InstanceScope {
  client?: string;
  procedure?: string;
}

/**
 * Procedures whose definitions have no client field (definitions-level work), by id; a procedure
 * not known here counts as one with a client field (the stricter rule).
 */
export type ClientlessProcedures = (procedure: string) => boolean;

/** Whether the user may see and act on an instance (or its audit records). */
export function mayAccessInstance(
  user: User,
  scope: InstanceScope,
  clientless: ClientlessProcedures,
): boolean {
  return instanceFilter(user, clientless)(scope);
}

/**
 * `mayAccessInstance` for many instances of one user (a view over every row of the view index):
 * whether the user sees every client is decided once — per row it reads the all-client roles
 * setting again.
 */
export function instanceFilter(
  user: User,
  clientless: ClientlessProcedures,
): (scope: InstanceScope) => boolean {
  if (seesAllClients(user)) return () => true;
  const clients = new Set(user.clients);
  const admin = isAdmin(user);
  return (scope) => {
    if (scope.client !== undefined && scope.client !== '') return clients.has(scope.client);
    return admin && scope.procedure !== undefined && clientless(scope.procedure);
  };
}

/** A visibility clause no instance matches (the user sees none). */
export const NOTHING = "WorkflowId = ''";

/**
 * The visibility clause limiting a query to what the user may see, or undefined when the user sees
 * every instance. `clientlessIds`: the procedures without a client field (admins see theirs).
 */
export function isolationClause(user: User, clientlessIds: readonly string[] = []): string | undefined {
  if (seesAllClients(user)) return undefined;
  const parts: string[] = [];
  if (user.clients.length) parts.push(`CustodiaClient IN (${user.clients.map(quote).join(', ')})`);
  if (isAdmin(user) && clientlessIds.length)
    parts.push(`(CustodiaClient IS NULL AND CustodiaProcedure IN (${clientlessIds.map(quote).join(', ')}))`);
  if (!parts.length) return NOTHING;
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}

/**
 * Which register rows the user may see (`records/registers.ts` applies it in SQL): a row is the
 * instance's that wrote it, so the rule is `mayAccessInstance`'s — rows of the user's clients, and
 * for admins those of client-less procedures without a client field; everything for the roles
 * that see every client.
 */
export function recordScope(user: User, clientlessIds: readonly string[] = []): RecordScope {
  if (seesAllClients(user)) return { all: true };
  return { clients: [...user.clients], clientless: isAdmin(user) ? [...clientlessIds] : [] };
}

/** What a signed-in user may need beyond signing in to call an API route. */
export type Permission = 'admin' | 'verifyAuditChain' | 'evidencePack' | 'dashboard';

export interface PermissionRule {
  /** Whether the user holds it. */
  holds(user: User): boolean;
  /** The problem code when not (403). */
  code: string;
  /** Who holds it, for people and the OpenAPI document. */
  holders: string;
}

/** Who looks across clients without working in them: those who see every client, admins, auditors. */
function overseesClients(user: User): boolean {
  return seesAllClients(user) || isAdmin(user) || user.roles.includes(AUDITOR_ROLE);
}

export const PERMISSIONS: Record<Permission, PermissionRule> = {
  admin: { holds: isAdmin, code: 'NOT_ADMIN', holders: 'users with the admin role' },
  // The whole chain spans every client: for those who see every client, and admins.
  verifyAuditChain: {
    holds: (user) => seesAllClients(user) || isAdmin(user),
    code: 'NOT_ALLOWED',
    get holders() {
      return `users who see every client (${[...allClientRoles()].join(', ')}) and admins`;
    },
  },
  // An assessor's pack of one client: auditors, admins and who sees every client (and then only
  // for a client they may see: `mayAccessClient`).
  evidencePack: {
    holds: overseesClients,
    code: 'NOT_ALLOWED',
    get holders() {
      return `auditors, admins and users who see every client (${[...allClientRoles()].join(', ')})`;
    },
  },
  // Managers' figures; each sees them only for the clients they may see (dashboard.ts).
  dashboard: {
    holds: overseesClients,
    code: 'NOT_ALLOWED',
    get holders() {
      return `managers (${[...allClientRoles()].join(', ')}), admins and auditors`;
    },
  },
};
