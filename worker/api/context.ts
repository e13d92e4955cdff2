/**
 * What every route handler works with: the Temporal client, the records store, the current
 * definitions, the API's settings, and the lookups several routes share (a definition by id, an
 * instance the caller may see, one visibility page).
 */
import type { IncomingMessage } from 'node:http';
import { isGrpcServiceError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WORKFLOW_TYPE } from '../../workflows/api.ts';
import type { Clause } from '../../workflows/core/clauses.ts';
import { compileSchemas } from '../../workflows/core/schemas.ts';
import { CustodiaClient, CustodiaProcedure } from '../../workflows/search-attributes.ts';
import { instanceFilter, isolationClause, mayAccessInstance, type InstanceScope } from '../access.ts';
import type { LoadedDefinition } from '../definitions.ts';
import type { RecordsStore, User } from '../records/types.ts';
import { BadPageToken, listPage, type InstancePage } from '../visibility.ts';
import { ApiProblem } from './http.ts';
import { ID } from './patterns.ts';
import { oidcFlow, type OidcFlow, type OidcSettings } from './oidc.ts';
import { createDraftPool, type DraftPool, type DraftPoolOptions } from '../draft-pool.ts';
import { createHashPool, type HashPool, type HashPoolOptions } from './hash-pool.ts';
import { trustedProxiesSetting, trustedProxyList, type TrustedProxies } from './network.ts';
import { DEFAULT_SIGN_IN_BUDGETS, SignInLimits, type SignInBudgets } from './sign-in-limits.ts';
import { uiFiles, type UiFiles } from './static.ts';
import { singleAdminDeploy, viewIndexSettings } from '../settings.ts';
import { ViewIndex, type ViewIndexOptions } from '../view-index.ts';

export interface ApiOptions {
  client: Client;
  store: RecordsStore;
  /** The definitions instances may be started from, by procedure id. */
  definitions: Map<string, LoadedDefinition>;
  taskQueue: string;
  /**
   * Always add `Secure` to the session cookie (and name it `__Host-…`). Default false: it is added
   * on its own to requests that arrive over TLS, directly or at a trusted proxy.
   */
  secureCookies?: boolean;
  /** Proxies whose `X-Forwarded-For`/`-Proto` are believed (IPs/CIDRs; default CUSTODIA_TRUSTED_PROXIES). */
  trustedProxies?: readonly string[];
  /** Session lifetime in ms (default 8 h). */
  sessionTtlMs?: number;
  /** Largest request body in bytes (default 256 KiB). */
  bodyLimit?: number;
  /** Failed logins per user + address within `loginWindowMs` before 429 (default 5 per 15 min). */
  loginFailures?: number;
  loginWindowMs?: number;
  /** The other sign-in budgets (per address, per user, in all); see `sign-in-limits.ts`. */
  signInBudgets?: Partial<SignInBudgets>;
  /** The password hashing threads (`hash-pool.ts`). */
  hashPool?: HashPoolOptions;
  /** The draft threads of validate and deploy (`../draft-pool.ts`). */
  draftPool?: DraftPoolOptions;
  /** Inbox tasks read per request before sorting by due time (default 2000; tests lower it). */
  inboxScan?: number;
  /** When the stalled counts and the inbox read a snapshot of the rows instead (`../view-index.ts`). */
  viewIndex?: ViewIndexOptions;
  /** Unexpected (5xx) errors are reported here (default console.error). */
  onError?: (err: unknown, req: IncomingMessage | undefined) => void;
  /** Serve the built web UI from this folder (`ui/dist`) at `/`; without it only `/api` answers. */
  uiDir?: string;
  /** The procedure's clauses (zh + en) for `GET /api/clauses`; default none. */
  clauses?: readonly Clause[];
  /** Offer sign-in through an OpenID Connect provider as well as passwords. */
  oidc?: OidcSettings;
  /** Told after a new version was deployed through the API (e.g. to sync its schedule). */
  onDeployed?: (def: LoadedDefinition) => void | Promise<void>;
  /** One admin deploys at once (development; default CUSTODIA_SINGLE_ADMIN_DEPLOY). */
  singleAdminDeploy?: boolean;
}

export interface ApiContext {
  readonly client: Client;
  readonly store: RecordsStore;
  readonly definitions: Map<string, LoadedDefinition>;
  readonly taskQueue: string;
  readonly secureCookies: boolean;
  readonly sessionTtlMs: number;
  readonly bodyLimit: number;
  readonly inboxScan: number;
  /** The running instances' rows at scale (`../view-index.ts`). */
  readonly viewIndex: ViewIndex;
  readonly clauses: readonly Clause[];
  readonly limits: SignInLimits;
  /** Password verification off the serving thread. */
  readonly hashPool: HashPool;
  /** Drafts loaded, checked and proved off the serving thread, under a time and memory budget. */
  readonly draftPool: DraftPool;
  readonly trustedProxies: TrustedProxies;
  /** Sign-in through the identity provider, when configured. */
  readonly sso?: OidcFlow;
  /** The built web UI, when served. */
  readonly ui?: UiFiles;
  readonly onError: (err: unknown, req: IncomingMessage | undefined) => void;
  readonly onDeployed?: (def: LoadedDefinition) => void | Promise<void>;
  /** One admin deploys at once (no second admin's approval): development only. */
  readonly singleAdminDeploy: boolean;
  /** The OpenAPI document of the routes served. */
  openApi(): object;
  /** The compiled JSON Schemas of a definition (cached by hash). */
  schemasOf(def: LoadedDefinition): ReturnType<typeof compileSchemas>;
  /** The current definition of a procedure, or 404 `UNKNOWN_PROCEDURE`. */
  definitionOf(id: string): LoadedDefinition;
  /**
   * The instance if it is a Custodia instance this user may see; 404 otherwise (also for other
   * clients' instances, so their existence is not revealed).
   */
  accessibleInstance(
    user: User,
    workflowId: string,
  ): Promise<{ client?: string; procedure?: string; running: boolean }>;
  /** Whether the user may see an instance of this client and procedure (`access.ts`). */
  mayAccess(user: User, scope: InstanceScope): boolean;
  /** `mayAccess` for many instances of one user (decided once what does not depend on the row). */
  accessFilter(user: User): (scope: InstanceScope) => boolean;
  /** The visibility clause limiting a query to the user's instances, or undefined: all. */
  isolation(user: User): string | undefined;
  /** One visibility page; a token Temporal does not accept is the caller's mistake (400). */
  pageOf(query: string, limit: number, token: string | undefined, now?: Date): Promise<InstancePage>;
}

export function createContext(opts: ApiOptions, openApi: () => object): ApiContext {
  const { client, definitions } = opts;
  const schemas = new Map<string, ReturnType<typeof compileSchemas>>();
  const workflowId = new RegExp(ID);
  const clientless = (procedure: string): boolean => {
    const def = definitions.get(procedure);
    return def !== undefined && !def.ir.clientField;
  };
  return {
    client,
    store: opts.store,
    definitions,
    taskQueue: opts.taskQueue,
    secureCookies: opts.secureCookies ?? false,
    sessionTtlMs: opts.sessionTtlMs ?? 8 * 3600_000,
    bodyLimit: opts.bodyLimit ?? 256 * 1024,
    inboxScan: opts.inboxScan ?? 2000,
    viewIndex: new ViewIndex(client, { ...viewIndexSettings(), ...opts.viewIndex }, opts.store),
    clauses: opts.clauses ?? [],
    limits: new SignInLimits({
      ...DEFAULT_SIGN_IN_BUDGETS,
      userAddress: {
        max: opts.loginFailures ?? DEFAULT_SIGN_IN_BUDGETS.userAddress.max,
        windowMs: opts.loginWindowMs ?? DEFAULT_SIGN_IN_BUDGETS.userAddress.windowMs,
      },
      ...opts.signInBudgets,
    }),
    hashPool: createHashPool(opts.hashPool),
    draftPool: createDraftPool(opts.draftPool),
    trustedProxies: opts.trustedProxies ? trustedProxyList(opts.trustedProxies) : trustedProxiesSetting(),
    ...(opts.oidc ? { sso: oidcFlow(opts.oidc) } : {}),
    ...(opts.uiDir ? { ui: uiFiles(opts.uiDir) } : {}),
    onError: opts.onError ?? ((err: unknown) => console.error('custodia api: unexpected error', err)),
    ...(opts.onDeployed ? { onDeployed: opts.onDeployed } : {}),
    singleAdminDeploy: opts.singleAdminDeploy ?? singleAdminDeploy(),
    openApi,
    schemasOf(def) {
      let s = schemas.get(def.hash);
      if (!s) schemas.set(def.hash, (s = compileSchemas(def.ir)));
      return s;
    },
    definitionOf(id) {
      const def = definitions.get(id);
      if (!def) throw new ApiProblem(404, 'UNKNOWN_PROCEDURE', `no procedure "${id}"`);
      return def;
    },
    async accessibleInstance(user, id) {
      const notFound = new ApiProblem(404, 'NOT_FOUND', `no instance "${id}"`);
      if (!workflowId.test(id)) throw notFound;
      let desc;
      try {
        desc = await client.workflow.getHandle(id).describe();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw notFound;
        throw err;
      }
      if (desc.type !== WORKFLOW_TYPE) throw notFound;
      const c = desc.typedSearchAttributes.get(CustodiaClient);
      const procedure = desc.typedSearchAttributes.get(CustodiaProcedure);
      if (
        !mayAccessInstance(
          user,
          { ...(c ? { client: c } : {}), ...(procedure ? { procedure } : {}) },
          clientless,
        )
      )
        throw notFound;
      return {
        ...(c !== undefined ? { client: c } : {}),
        ...(procedure !== undefined ? { procedure } : {}),
        running: desc.status.name === 'RUNNING',
      };
    },
    accessFilter(user) {
      return instanceFilter(user, clientless);
    },
    mayAccess(user, scope) {
      return mayAccessInstance(user, scope, clientless);
    },
    isolation(user) {
      const ids = [...definitions.values()].filter((d) => !d.ir.clientField).map((d) => d.ir.id);
      return isolationClause(user, ids);
    },
    async pageOf(query, limit, token, now = new Date()) {
      try {
        return await listPage(client, query, limit, token, now);
      } catch (err) {
        // Refused before asking Temporal, or answered INVALID_ARGUMENT / UNKNOWN by its frontend.
        if (
          err instanceof BadPageToken ||
          (token && isGrpcServiceError(err) && (err.code === 3 || err.code === 2))
        )
          throw new ApiProblem(
            400,
            'INVALID_PAGE_TOKEN',
            'pageToken is not one this list gave out; start from the first page',
          );
        throw err;
      }
    },
  };
}
