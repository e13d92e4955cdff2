/**
 * Roles a user may hold (a fixed contract): those declared by the definitions the
 * product runs — the files and every version deployed in the records store — plus the engine's own
 * `admin` and `auditor`. The engine knows no procedure: no list of a procedure's roles lives here.
 *
 * Which roles see every client's instances is configuration (`CUSTODIA_ALL_CLIENT_ROLES`, default
 * `quality_manager,general_manager`), not a flag a definition sets: who may read which client's
 * data is the operator's security decision, and a definition deployed through the API must not be
 * able to widen it (nor two definitions disagree about it).
 */
import { DEPLOY_REPORTER_ROLE } from '../workflows/core/actions/deploy-definition.ts';
import { LOOKUP_ROLE } from '../workflows/core/actions/lookup.ts';
import type { ProcedureIR, Text } from '../workflows/core/ir.ts';
import type { RecordsStore } from './records/types.ts';
import { allClientRoleIds } from './settings.ts';

/** Deploys definitions and manages users. */
export const ADMIN_ROLE = 'admin';
/** Checks the records (audit trail, evidence); takes no step in any procedure. */
export const AUDITOR_ROLE = 'auditor';

export interface RoleInfo {
  title: Text;
  description?: Text;
}

/** The engine's own roles, with what they are for. */
export const ENGINE_ROLES: Readonly<Record<typeof ADMIN_ROLE | typeof AUDITOR_ROLE, Required<RoleInfo>>> = {
  [ADMIN_ROLE]: {
    title: { zh: '系统管理员', en: 'Administrator' },
    description: {
      zh: '部署程序定义，管理用户及其角色和客户分配',
      en: 'Deploys procedure definitions and manages users, their roles and client assignments',
    },
  },
  [AUDITOR_ROLE]: {
    title: { zh: '审计员', en: 'Auditor' },
    description: {
      zh: '检查记录（审计链、证据），不参与任何程序步骤',
      en: 'Checks the records (audit trail, evidence); takes no step in any procedure',
    },
  },
};

/** Roles only the engine acts under (its reports back into an instance); never a person's. */
const ENGINE_ACTOR_ROLES: ReadonlySet<string> = new Set([DEPLOY_REPORTER_ROLE, LOOKUP_ROLE]);

/** A role a user may hold, with where it comes from. */
export interface KnownRole extends RoleInfo {
  id: string;
  /** One of the engine's own roles. */
  engine: boolean;
  /** Procedures declaring it (sorted). */
  procedures: string[];
}

/**
 * The roles users may hold: the engine's plus every role `definitions` declare (pass the files the
 * product runs AND the versions deployed in the store). A role's title is the engine's for engine
 * roles, else the first declaring definition's.
 */
export function knownRoles(definitions: Iterable<{ ir: ProcedureIR }>): Map<string, KnownRole> {
  const known = new Map<string, KnownRole>();
  for (const [id, info] of Object.entries(ENGINE_ROLES))
    known.set(id, { id, engine: true, procedures: [], ...info });
  for (const { ir } of definitions)
    for (const [id, title] of Object.entries(ir.roles)) {
      if (ENGINE_ACTOR_ROLES.has(id)) continue;
      const role = known.get(id) ?? { id, title, engine: false, procedures: [] };
      if (!role.procedures.includes(ir.id)) role.procedures = [...role.procedures, ir.id].sort();
      known.set(id, role);
    }
  return new Map([...known].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A set of role ids: `knownRoles(…)`'s map or a plain set. */
export type RoleSet = ReadonlySet<string> | ReadonlyMap<string, unknown>;

/**
 * `knownRoles` of the product: the definition files it runs (`files`, e.g. the process's current
 * definitions) and every version deployed in `store`.
 */
export async function productRoles(
  store: Pick<RecordsStore, 'definitionVersions'>,
  files: Iterable<{ ir: ProcedureIR }>,
): Promise<Map<string, KnownRole>> {
  return knownRoles([...files, ...(await store.definitionVersions())]);
}

/** The roles in `roles` that `known` does not have (in the order given). */
export function unknownRoles(roles: readonly string[], known: RoleSet): string[] {
  return roles.filter((r) => !known.has(r));
}

/** Why `roles` may not be held, or undefined when they may (none unknown, at least one). */
export function rolesProblem(roles: readonly string[], known: RoleSet): string | undefined {
  if (!roles.length) return 'a user needs at least one role';
  const unknown = unknownRoles(roles, known);
  if (unknown.length) return `unknown role(s) ${unknown.join(', ')}; known: ${[...known.keys()].join(', ')}`;
  return undefined;
}

/** Roles that see every client's instances (`CUSTODIA_ALL_CLIENT_ROLES`). */
export function allClientRoles(env?: NodeJS.ProcessEnv): ReadonlySet<string> {
  return new Set(allClientRoleIds(env));
}

/** Whether a user with `roles` sees every client's instances (else only their assigned clients). */
export function seesAllClients(
  user: { roles: readonly string[] },
  allClient: ReadonlySet<string> = allClientRoles(),
): boolean {
  return user.roles.some((r) => allClient.has(r));
}

/** Whether a user with `roles` is an administrator (deploys definitions, manages users). */
export function isAdmin(user: { roles: readonly string[] }): boolean {
  return user.roles.includes(ADMIN_ROLE);
}
