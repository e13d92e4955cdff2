/**
 * Every environment variable Custodia reads, in one place: its default, a one-line description and
 * a typed reader. Other modules ask this one (`definitionDirs()`, `httpSettings()`, …) instead of
 * reading `process.env`; the README's settings table is generated from `SETTINGS` (a unit test
 * keeps the two equal), and `warnUnknownSettings()` names any `CUSTODIA_*` variable nobody reads —
 * usually a typo that would otherwise be silently ignored.
 *
 * `temporal.config.yaml` stays the file-based Temporal configuration (`config.ts`); the `TEMPORAL_*`
 * variables here override its keys. Free of Temporal imports, so the CLI's quick commands load fast.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in `<root>/worker/`); relative paths resolve against it. */
export const REPO_ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

/** What a variable configures, for the README table's grouping. */
export type SettingArea =
  | 'temporal'
  | 'definitions'
  | 'records'
  | 'roles'
  | 'identity'
  | 'http'
  | 'ops'
  | 'oidc'
  | 'notifications'
  | 'ui'
  | 'tests';

export interface SettingSpec {
  area: SettingArea;
  /** The value used when the variable is unset or empty, as a person would write it; null: none. */
  default: string | null;
  /** One line: what it does. */
  description: string;
  /** For `TEMPORAL_*` overrides: the dotted key of `temporal.config.yaml` it overrides. */
  configKey?: string;
}

/** Every variable Custodia reads. Adding one here is what makes it known (and documented). */
export const SETTINGS = {
  TEMPORAL_ADDRESS: {
    area: 'temporal',
    configKey: 'address',
    default: null,
    description: 'host:port of an external Temporal cluster; unset: start the local dev server',
  },
  TEMPORAL_NAMESPACE: {
    area: 'temporal',
    configKey: 'namespace',
    default: 'default',
    description: 'Temporal namespace',
  },
  CUSTODIA_TASK_QUEUE: {
    area: 'temporal',
    configKey: 'taskQueue',
    default: 'custodia',
    description: 'task queue the workers poll and instances start on',
  },
  TEMPORAL_TLS: {
    area: 'temporal',
    configKey: 'tls.enabled',
    default: 'auto',
    description: 'true/false force TLS on/off; auto: on when a TLS file or an API key is set',
  },
  TEMPORAL_TLS_CERT: {
    area: 'temporal',
    configKey: 'tls.clientCertPath',
    default: null,
    description: 'mTLS client certificate (PEM file)',
  },
  TEMPORAL_TLS_KEY: {
    area: 'temporal',
    configKey: 'tls.clientKeyPath',
    default: null,
    description: 'mTLS client key (PEM file)',
  },
  TEMPORAL_TLS_CA: {
    area: 'temporal',
    configKey: 'tls.serverRootCACertPath',
    default: null,
    description: "the server's CA certificate (PEM file)",
  },
  TEMPORAL_TLS_SERVER_NAME: {
    area: 'temporal',
    configKey: 'tls.serverNameOverride',
    default: null,
    description: 'server name to verify the TLS certificate against',
  },
  TEMPORAL_API_KEY: {
    area: 'temporal',
    configKey: 'apiKey',
    default: null,
    description: 'API key for the cluster (turns TLS on)',
  },
  TEMPORAL_GRPC_META: {
    area: 'temporal',
    configKey: 'metadata',
    default: null,
    description: 'extra gRPC headers, comma-separated key=value pairs',
  },
  TEMPORAL_BINARY: {
    area: 'temporal',
    configKey: 'devServer.binary',
    default: null,
    description: '`temporal` CLI binary for the dev server; unset: PATH, else installed into tools/',
  },
  TEMPORAL_DEV_DB_FILE: {
    area: 'temporal',
    configKey: 'devServer.dbFile',
    default: 'data/temporal.db',
    description: "dev server's SQLite file; `:memory:` or `none` for an in-memory server",
  },
  TEMPORAL_DEV_IP: {
    area: 'temporal',
    configKey: 'devServer.ip',
    default: '127.0.0.1',
    description: 'address the dev server listens on',
  },
  TEMPORAL_DEV_PORT: {
    area: 'temporal',
    configKey: 'devServer.port',
    default: '7233',
    description:
      "dev server's gRPC port (0 picks a free one; taken by another program before the server bound it, it picks again, three starts at most)",
  },
  TEMPORAL_DEV_UI_PORT: {
    area: 'temporal',
    configKey: 'devServer.uiPort',
    default: '8233',
    description: "dev server's web UI port; `off` disables it",
  },
  TEMPORAL_DEV_LOG_LEVEL: {
    area: 'temporal',
    configKey: 'devServer.logLevel',
    default: 'warn',
    description: "dev server's log level: debug, info, warn, error or never",
  },
  CUSTODIA_LOG_LEVEL: {
    area: 'temporal',
    default: 'INFO',
    description: 'Temporal SDK log level of worker processes: TRACE, DEBUG, INFO, WARN or ERROR',
  },
  CUSTODIA_LOG_FORMAT: {
    area: 'ops',
    default: 'text',
    description:
      '`json`: one JSON object per log line (time, level, msg, requestId, workflowId, …) and one line per API request; `text`: plain lines',
  },
  CUSTODIA_SDK_METRICS_ADDRESS: {
    area: 'ops',
    default: null,
    description:
      "host:port where the Temporal SDK's own worker metrics (Prometheus) are served; `GET /metrics` appends them; unset: off",
  },
  CUSTODIA_WORKER_METRICS_PORT: {
    area: 'ops',
    default: null,
    description:
      "`npm run worker` only: serve that process's `GET /metrics` (its transitions, audit latency) on this port; unset: none",
  },
  CUSTODIA_MAX_CACHED_WORKFLOWS: {
    area: 'ops',
    default: '500',
    description:
      "instances a worker keeps in memory between events (Temporal's sticky workflow cache; 0: none). Fewer: less memory, an event on an evicted instance replays its history first",
  },
  MALLOC_ARENA_MAX: {
    area: 'ops',
    default: '2',
    description:
      "glibc malloc arenas of `npm start` / `npm run worker` (bin/launch.mjs sets it when unset; glibc's own default: 8 per core). Fewer: less memory kept by freed allocations",
  },
  CUSTODIA_OPTIMIZE_FOR_SIZE: {
    area: 'ops',
    default: 'false',
    description:
      'true: `npm start` / `npm run worker` run V8 with --optimize-for-size (bin/launch.mjs) instead of the default --max-semi-space-size=4 --heap-growing-percent=50: a smaller heap, about 25% more CPU per transition',
  },
  CUSTODIA_IDLE_GC_INTERVAL_MS: {
    area: 'ops',
    default: '60000',
    description:
      'server processes: at most once per this many ms (≥ 10000; 0: never), when the main thread is idle and its V8 heap holds ≥ 48 MB of unused pages, a memory-reducing collection gives them back (worker/memory-release.ts)',
  },
  CUSTODIA_MAX_CONCURRENT_WORKFLOW_TASKS: {
    area: 'ops',
    default: '40',
    description:
      "workflow tasks a worker runs at once (Temporal's maxConcurrentWorkflowTaskExecutions, ≥ 2, at most the cache size)",
  },
  CUSTODIA_VIEW_INDEX_FROM: {
    area: 'ops',
    default: '20000',
    description:
      "running instances from which the stalled counts and the inbox answer from the API process's copy of the visibility rows (re-read in the background, its age shown) instead of live queries",
  },
  CUSTODIA_VIEW_INDEX_MAX_AGE_MS: {
    area: 'ops',
    default: '30000',
    description:
      'age (ms, ≥ 1000) of that copy from which a request starts a background refresh (of the instances started, moved or closed since)',
  },
  CUSTODIA_VIEW_INDEX_FULL_EVERY_MS: {
    area: 'ops',
    default: '600000',
    description:
      'age (ms, ≥ 1000) of the last full reading of that copy from which a refresh reads every row again (in between, a refresh reads what changed: state windows and the instances with audit records since)',
  },
  CUSTODIA_READY_TIMEOUT_MS: {
    area: 'ops',
    default: '2000',
    description: 'deadline (ms) of each `/readyz` check (Temporal, records store) and of scrape-time queries',
  },
  CUSTODIA_DEFINITIONS: {
    area: 'definitions',
    default: 'definitions',
    description: 'comma-separated folders of the definition files the product runs',
  },
  CUSTODIA_DEFINITIONS_REFRESH_MS: {
    area: 'definitions',
    default: '30000',
    description: 'how often (ms, ≥ 1000) a process picks up versions deployed through another process',
  },
  CUSTODIA_SINGLE_ADMIN_DEPLOY: {
    area: 'definitions',
    default: 'false',
    description:
      'true: `POST /api/definitions` deploys at once (development; the UI shows a warning) unless the draft drops or changes a duty or invariant; else a second admin approves',
  },
  DATABASE_URL: {
    area: 'records',
    default: null,
    description: 'PostgreSQL connection string of the records store (several processes); unset: embedded',
  },
  CUSTODIA_RECORDS_DIR: {
    area: 'records',
    default: 'data/records',
    description: 'folder of the embedded records store; `:memory:` for none (lost at exit)',
  },
  CUSTODIA_CHECKPOINT_DIR: {
    area: 'records',
    default: null,
    description:
      "folder of the audit checkpoints' signing key and checkpoint file, outside the database (default: the embedded store's folder; `data/` with DATABASE_URL)",
  },
  CUSTODIA_CHECKPOINT_KEY: {
    area: 'records',
    default: null,
    description:
      "Ed25519 private key (PEM, mode 0600) signing the audit chain's checkpoints, created on first use (default: `audit-checkpoint.key` in the checkpoint folder)",
  },
  CUSTODIA_CHECKPOINT_FILE: {
    area: 'records',
    default: null,
    description:
      'append-only file of the signed checkpoints, outside the database (default: `audit-checkpoints.jsonl` in the checkpoint folder)',
  },
  CUSTODIA_CHECKPOINT_EVERY: {
    area: 'records',
    default: '100',
    description:
      'sign a checkpoint every N audit appends of a process (also at shutdown); 0: only on demand and at shutdown',
  },
  CUSTODIA_PDF_FONT: {
    area: 'records',
    default: null,
    description:
      'CJK font the evidence PDF embeds (.ttc/.otf/.ttf; for a collection other than Noto CJK add `#PostScriptName`); unset: Noto Sans CJK from `fonts-noto-cjk`',
  },
  CUSTODIA_REGISTER_EXPORT_LIMIT: {
    area: 'records',
    default: '10000',
    description:
      'most rows one register export (CSV/XLSX) may hold; a larger selection is refused (422): narrow the filter',
  },
  CUSTODIA_ATTACHMENT_MAX_BYTES: {
    area: 'records',
    default: '20971520',
    description: 'largest file one upload may attach (bytes; default 20 MiB); a larger one is refused (413)',
  },
  CUSTODIA_ATTACHMENT_TYPES: {
    area: 'records',
    default: 'pdf,image,office',
    description:
      'file families uploads may be (pdf, image, office), judged from the bytes; others are refused (415)',
  },
  CUSTODIA_ATTACHMENTS_DIR: {
    area: 'records',
    default: null,
    description:
      'keep attached files in this folder (named by SHA-256) instead of the records store; their hashes and records stay in the store',
  },
  CUSTODIA_ALL_CLIENT_ROLES: {
    area: 'roles',
    default: 'quality_manager,general_manager',
    description:
      "comma-separated roles that see every client's instances (others: assigned clients only); empty: none",
  },
  CUSTODIA_ACTOR_KEY: {
    area: 'identity',
    default: 'data/actor-key.pem',
    description:
      'Ed25519 private key (PKCS#8 PEM, mode 0600) with which the API and CLI sign actor assertions; created on first use',
  },
  CUSTODIA_MASK_KEY: {
    area: 'identity',
    default: 'data/mask-key',
    description:
      'secret (32 random bytes, hex, mode 0600) of the keyed hash that masks `sensitive: true` fields in audit data, registers, notifications and logs; created on first use; every worker of a deployment needs the same one',
  },
  CUSTODIA_ACTOR_PUBLIC_KEYS: {
    area: 'identity',
    default: null,
    description:
      'comma-separated base64url Ed25519 public keys the workers trust (rotation: list old and new); unset: the public half of CUSTODIA_ACTOR_KEY',
  },
  CUSTODIA_SMTP_HOST: {
    area: 'notifications',
    default: null,
    description:
      'SMTP server for e-mail notifications; unset: no e-mail is sent (the outbox keeps it, admins see it pending)',
  },
  CUSTODIA_SMTP_PORT: {
    area: 'notifications',
    default: null,
    description: 'SMTP port (default 587, or 465 when CUSTODIA_SMTP_SECURE)',
  },
  CUSTODIA_SMTP_SECURE: {
    area: 'notifications',
    default: null,
    description: '`1`/`true`: TLS from the first byte (port 465); otherwise STARTTLS when offered',
  },
  CUSTODIA_SMTP_USER: {
    area: 'notifications',
    default: null,
    description: 'SMTP user (with CUSTODIA_SMTP_PASSWORD, both or neither)',
  },
  CUSTODIA_SMTP_PASSWORD: {
    area: 'notifications',
    default: null,
    description: 'SMTP password',
  },
  CUSTODIA_SMTP_FROM: {
    area: 'notifications',
    default: null,
    description: 'From address of e-mails (default `custodia@<host of CUSTODIA_PUBLIC_URL>`)',
  },
  CUSTODIA_PUBLIC_URL: {
    area: 'notifications',
    default: null,
    description: 'where people open the UI (e.g. https://custodia.example.cn): the links in e-mails',
  },
  CUSTODIA_NOTIFY_POLL_MS: {
    area: 'notifications',
    default: '5000',
    description: 'how often (ms) the e-mail outbox is looked at',
  },
  CUSTODIA_NOTIFY_LEASE_MS: {
    area: 'notifications',
    default: '120000',
    description: "a sender's claim on outbox rows (ms); a dead sender's rows are taken again after it",
  },
  CUSTODIA_NOTIFY_SEND_TIMEOUT_MS: {
    area: 'notifications',
    default: '40000',
    description: 'longest one SMTP send may take (ms); no send starts with less lease left',
  },
  CUSTODIA_NOTIFY_MAX_ATTEMPTS: {
    area: 'notifications',
    default: '10',
    description: 'attempts before an outbox row is `failed` (shown to admins)',
  },
  CUSTODIA_NOTIFY_BACKOFF_MS: {
    area: 'notifications',
    default: '30000',
    description: 'first retry delay (ms), doubled each time up to 1 h',
  },
  CUSTODIA_HTTP_PORT: {
    area: 'http',
    default: '8080',
    description: 'port of the HTTP API and web UI (0 picks a free one)',
  },
  CUSTODIA_TRUSTED_PROXIES: {
    area: 'http',
    default: null,
    description:
      'comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (client address for sign-in limits, TLS for Secure cookies); unset: none',
  },
  CUSTODIA_HTTP_HOST: {
    area: 'http',
    default: '127.0.0.1',
    description: 'address the HTTP API listens on',
  },
  CUSTODIA_SECURE_COOKIES: {
    area: 'http',
    default: '0',
    description: '1: session cookies are `Secure` (HTTPS behind a proxy)',
  },
  CUSTODIA_OIDC_ISSUER: {
    area: 'oidc',
    default: null,
    description: "OpenID Connect provider's issuer URL (https); unset: no single sign-on",
  },
  CUSTODIA_OIDC_CLIENT_ID: {
    area: 'oidc',
    default: null,
    description: 'client id registered at the provider (required with the issuer)',
  },
  CUSTODIA_OIDC_CLIENT_SECRET: {
    area: 'oidc',
    default: null,
    description: 'client secret registered at the provider',
  },
  CUSTODIA_OIDC_REDIRECT_URI: {
    area: 'oidc',
    default: null,
    description: '`<public URL>/api/oidc/callback` as registered (required with the issuer)',
  },
  CUSTODIA_OIDC_SCOPES: {
    area: 'oidc',
    default: 'openid profile email',
    description: 'scopes asked for at sign-in',
  },
  CUSTODIA_OIDC_USER_CLAIM: {
    area: 'oidc',
    default: 'preferred_username',
    description: 'ID-token claim holding the Custodia user id',
  },
  CUSTODIA_OIDC_LABEL: {
    area: 'oidc',
    default: 'Single sign-on',
    description: 'label of the sign-in button',
  },
  CUSTODIA_OIDC_ALLOW_HTTP: {
    area: 'oidc',
    default: '0',
    description: '1: allow an http issuer (a local test provider only)',
  },
  CUSTODIA_OIDC_COOKIE_SECRET: {
    area: 'oidc',
    default: null,
    description:
      'key (≥ 32 characters) of the pending sign-in cookie; same on every API process; unset: random',
  },
  CUSTODIA_UI_DIR: {
    area: 'ui',
    default: null,
    description: 'serve this built UI folder as is; `off`: no UI; unset: ui/dist, rebuilt when stale',
  },
  CUSTODIA_API_URL: {
    area: 'ui',
    default: 'http://127.0.0.1:8080',
    description: 'API the UI dev server (`npm run ui:dev`) proxies to',
  },
  CUSTODIA_TEST_DATABASE_URL: {
    area: 'tests',
    default: null,
    description: 'PostgreSQL server for the PostgreSQL variants of the tests; unset: a throwaway cluster',
  },
  CUSTODIA_CHROMIUM: {
    area: 'tests',
    default: '/usr/bin/chromium',
    description: 'Chromium binary the browser tests drive',
  },
  CUSTODIA_BROWSER_UI_DIR: {
    area: 'tests',
    default: null,
    description: 'built UI folder the browser tests serve; unset: build ui/dist',
  },
  CUSTODIA_BROWSER_LOG: {
    area: 'tests',
    default: null,
    description: "1: print the browser's console during browser tests",
  },
  CUSTODIA_SCREENSHOTS: {
    area: 'tests',
    default: null,
    description: 'folder the browser tests write screenshots to (`npm run screenshots`)',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

type Env = NodeJS.ProcessEnv;

/** The variable's trimmed value, or undefined when unset or empty. */
export function setting(name: SettingName, env: Env = process.env): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** `CUSTODIA_*` variables set in `env` that no part of Custodia reads (sorted). */
export function unknownSettings(env: Env = process.env): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('CUSTODIA_') && !Object.hasOwn(SETTINGS, name))
    .sort();
}

/** One warning line per unknown `CUSTODIA_*` variable (called once at each process start). */
export function warnUnknownSettings(
  env: Env = process.env,
  warn: (line: string) => void = console.warn,
): void {
  const known = Object.keys(SETTINGS).filter((n) => n.startsWith('CUSTODIA_'));
  for (const name of unknownSettings(env)) {
    const near = known.find((k) => editDistance(k, name) <= 2);
    warn(
      `custodia: warning: ${name} is not a Custodia setting (ignored)${near ? `; did you mean ${near}?` : ''}`,
    );
  }
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

const AREA_TITLES: Record<SettingArea, string> = {
  temporal: 'Temporal',
  definitions: 'Definitions',
  records: 'Records store',
  roles: 'Roles',
  identity: 'Actor identity',
  http: 'HTTP API',
  ops: 'Operations',
  oidc: 'Single sign-on',
  notifications: 'Notifications',
  ui: 'Web UI',
  tests: 'Tests',
};

/** The README's settings table (Markdown), generated from `SETTINGS`. */
export function settingsTable(): string {
  const escape = (s: string): string => s.replace(/\|/g, '\\|');
  const rows = Object.entries(SETTINGS).map(([name, spec]: [string, SettingSpec]) => {
    const key = spec.configKey ? ` (\`${spec.configKey}\` in temporal.config.yaml)` : '';
    const def = spec.default === null ? '—' : `\`${spec.default}\``;
    return `| \`${name}\` | ${AREA_TITLES[spec.area]} | ${def} | ${escape(spec.description)}${key} |`;
  });
  return ['| Variable | Area | Default | What it does |', '|---|---|---|---|', ...rows].join('\n');
}

// --- typed readers --------------------------------------------------------------------------------

/** A dotted `temporal.config.yaml` key overridden from the environment. */
export interface TemporalOverride {
  variable: SettingName;
  key: string;
  text: string;
}

/** The `TEMPORAL_*` (and `CUSTODIA_TASK_QUEUE`) overrides that are set, for `loadConfig`. */
export function temporalOverrides(env: Env = process.env): TemporalOverride[] {
  const out: TemporalOverride[] = [];
  for (const [variable, spec] of Object.entries(SETTINGS) as [SettingName, SettingSpec][]) {
    const text = env[variable];
    if (spec.configKey && text !== undefined && text !== '')
      out.push({ variable, key: spec.configKey, text });
  }
  return out;
}

/** Folders holding the definition files the product runs (absolute). */
export function definitionDirs(env: Env = process.env): string[] {
  const raw = setting('CUSTODIA_DEFINITIONS', env) ?? SETTINGS.CUSTODIA_DEFINITIONS.default;
  return raw.split(',').map((d) => path.resolve(REPO_ROOT, d.trim()));
}

/**
 * A setting that is a whole number of at most `digits` digits (default 9), at least `min` (or 0
 * with `orZero`), its default when unset; else an error saying it must be `what`.
 */
function wholeNumber(
  name: SettingName,
  env: Env,
  rule: { min: number; digits?: number; orZero?: boolean; what: string },
): number {
  const raw = setting(name, env) ?? SETTINGS[name].default;
  const n = Number(raw);
  const digits = new RegExp(`^\\d{1,${rule.digits ?? 9}}$`);
  if (typeof raw !== 'string' || !digits.test(raw) || (n < rule.min && !(rule.orZero && n === 0)))
    throw new Error(`${name} must be ${rule.what} (got "${raw}")`);
  return n;
}

/** How many instances a worker keeps cached between events (`maxCachedWorkflows`; 0 disables the cache). */
export function maxCachedWorkflows(env: Env = process.env): number {
  const raw = setting('CUSTODIA_MAX_CACHED_WORKFLOWS', env) ?? SETTINGS.CUSTODIA_MAX_CACHED_WORKFLOWS.default;
  if (!/^\d{1,7}$/.test(raw) || Number(raw) === 1)
    throw new Error(`CUSTODIA_MAX_CACHED_WORKFLOWS must be 0 or a whole number ≥ 2 (got "${raw}")`);
  return Number(raw);
}

/** At most one idle memory release per this many ms in a server process (0: never; memory-release.ts). */
export function idleGcIntervalMs(env: Env = process.env): number {
  return wholeNumber('CUSTODIA_IDLE_GC_INTERVAL_MS', env, {
    min: 10_000,
    orZero: true,
    what: '0 or a number of ms ≥ 10000',
  });
}

/** Workflow tasks a worker runs at once (`maxConcurrentWorkflowTaskExecutions`, ≥ 2). */
export function maxConcurrentWorkflowTasks(env: Env = process.env): number {
  return wholeNumber('CUSTODIA_MAX_CONCURRENT_WORKFLOW_TASKS', env, {
    min: 2,
    digits: 5,
    what: 'a whole number ≥ 2',
  });
}

/** When the API's views answer from its copy of the visibility rows (`view-index.ts`). */
export function viewIndexSettings(env: Env = process.env): {
  from: number;
  maxAgeMs: number;
  fullEveryMs: number;
} {
  const from = setting('CUSTODIA_VIEW_INDEX_FROM', env) ?? SETTINGS.CUSTODIA_VIEW_INDEX_FROM.default;
  if (!/^\d{1,10}$/.test(from))
    throw new Error(`CUSTODIA_VIEW_INDEX_FROM must be a whole number of instances (got "${from}")`);
  const ms = (name: 'CUSTODIA_VIEW_INDEX_MAX_AGE_MS' | 'CUSTODIA_VIEW_INDEX_FULL_EVERY_MS'): number =>
    wholeNumber(name, env, { min: 1000, what: 'a number of ms ≥ 1000' });
  return {
    from: Number(from),
    maxAgeMs: ms('CUSTODIA_VIEW_INDEX_MAX_AGE_MS'),
    fullEveryMs: ms('CUSTODIA_VIEW_INDEX_FULL_EVERY_MS'),
  };
}

/** How often a process re-reads the deployed versions from the records store (ms). */
export function definitionsRefreshMs(env: Env = process.env): number {
  return wholeNumber('CUSTODIA_DEFINITIONS_REFRESH_MS', env, { min: 1000, what: 'a number of ms ≥ 1000' });
}

export const SDK_LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type SdkLogLevel = (typeof SDK_LOG_LEVELS)[number];

/** The Temporal SDK's log level in worker processes. */
export function sdkLogLevel(env: Env = process.env): SdkLogLevel {
  const level = env.CUSTODIA_LOG_LEVEL?.toUpperCase() || SETTINGS.CUSTODIA_LOG_LEVEL.default;
  if (!(SDK_LOG_LEVELS as readonly string[]).includes(level))
    throw new Error(`CUSTODIA_LOG_LEVEL must be one of ${SDK_LOG_LEVELS.join(', ')} (got ${level})`);
  return level as SdkLogLevel;
}

/** Where the records store is: a PostgreSQL URL, or the embedded store's folder (null: in memory). */
export type RecordsLocation = { databaseUrl: string } | { dataDir: string | null };

/** Folder of the embedded records store (absolute), or null for an in-memory store. */
export function recordsDir(env: Env = process.env): string | null {
  const raw = setting('CUSTODIA_RECORDS_DIR', env);
  if (raw === ':memory:') return null;
  return path.resolve(REPO_ROOT, raw ?? SETTINGS.CUSTODIA_RECORDS_DIR.default);
}

/** PostgreSQL when DATABASE_URL is set, else the embedded store in `recordsDir()`. */
export function recordsLocation(env: Env = process.env): RecordsLocation {
  const databaseUrl = setting('DATABASE_URL', env);
  return databaseUrl ? { databaseUrl } : { dataDir: recordsDir(env) };
}

/** The roles that see every client's instances (configuration, not code: see `roles.ts`). */
export function allClientRoleIds(env: Env = process.env): string[] {
  const raw = env.CUSTODIA_ALL_CLIENT_ROLES ?? SETTINGS.CUSTODIA_ALL_CLIENT_ROLES.default;
  const roles = raw
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const bad = roles.filter((r) => !/^[a-z][a-z0-9_]*$/.test(r));
  if (bad.length)
    throw new Error(`CUSTODIA_ALL_CLIENT_ROLES must be comma-separated role ids (got ${bad.join(', ')})`);
  return [...new Set(roles)];
}

/** The web UI to serve: `off`, a configured folder (absolute, served as is), or `build` (ui/dist). */
export function uiDirSetting(
  env: Env = process.env,
): { kind: 'off' } | { kind: 'dir'; dir: string } | { kind: 'build' } {
  const configured = setting('CUSTODIA_UI_DIR', env);
  if (configured === 'off') return { kind: 'off' };
  if (configured) return { kind: 'dir', dir: path.resolve(REPO_ROOT, configured) };
  return { kind: 'build' };
}

export interface HttpSettings {
  port: number;
  host: string;
  secureCookies: boolean;
}

/** Where the HTTP API listens and whether its session cookie is `Secure`. */
export function httpSettings(env: Env = process.env): HttpSettings {
  const rawPort = setting('CUSTODIA_HTTP_PORT', env) ?? SETTINGS.CUSTODIA_HTTP_PORT.default;
  if (!/^\d{1,5}$/.test(rawPort) || Number(rawPort) > 65535)
    throw new Error(`CUSTODIA_HTTP_PORT must be a port number 0–65535 (got "${rawPort}")`);
  const secure = env.CUSTODIA_SECURE_COOKIES?.trim().toLowerCase() ?? '';
  if (secure && !['1', '0', 'true', 'false'].includes(secure))
    throw new Error(`CUSTODIA_SECURE_COOKIES must be 1 or 0 (got "${secure}")`);
  return {
    port: Number(rawPort),
    host: setting('CUSTODIA_HTTP_HOST', env) ?? SETTINGS.CUSTODIA_HTTP_HOST.default,
    secureCookies: secure === '1' || secure === 'true',
  };
}

export interface OidcSettings {
  /** The provider's issuer URL (discovery at `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** This API's callback as registered at the provider: `<public URL>/api/oidc/callback`. */
  redirectUri: string;
  /** Default `openid profile email`. */
  scopes: string;
  /** ID-token claim holding the Custodia user id. Default `preferred_username`. */
  userClaim: string;
  /** Shown on the sign-in page, e.g. "Company SSO". */
  label: string;
  /** Allow an `http:` issuer (only sensible on a developer machine). */
  allowHttp: boolean;
  /** Key for the pending sign-in cookie (≥ 32 bytes); random per process when absent. */
  cookieSecret?: string;
}

/** Single sign-on through an OpenID Connect provider, or undefined when not configured. */
export function oidcSettings(env: Env = process.env): OidcSettings | undefined {
  const issuer = setting('CUSTODIA_OIDC_ISSUER', env);
  if (!issuer) return undefined;
  const need = (name: SettingName): string => {
    const v = setting(name, env);
    if (!v) throw new Error(`${name} must be set when CUSTODIA_OIDC_ISSUER is`);
    return v;
  };
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(issuer);
  } catch {
    throw new Error(`CUSTODIA_OIDC_ISSUER must be a URL (got "${issuer}")`);
  }
  const redirectUri = need('CUSTODIA_OIDC_REDIRECT_URI');
  if (!/\/api\/oidc\/callback$/.test(new URL(redirectUri).pathname))
    throw new Error('CUSTODIA_OIDC_REDIRECT_URI must end in /api/oidc/callback');
  const allowHttp = ['1', 'true'].includes(env.CUSTODIA_OIDC_ALLOW_HTTP?.trim() ?? '');
  if (issuerUrl.protocol !== 'https:' && !allowHttp)
    throw new Error(
      'CUSTODIA_OIDC_ISSUER must be https (CUSTODIA_OIDC_ALLOW_HTTP=1 for a local test provider)',
    );
  const secret = setting('CUSTODIA_OIDC_COOKIE_SECRET', env);
  if (secret !== undefined && secret.length < 32)
    throw new Error('CUSTODIA_OIDC_COOKIE_SECRET must be at least 32 characters');
  const clientSecret = setting('CUSTODIA_OIDC_CLIENT_SECRET', env);
  return {
    issuer,
    clientId: need('CUSTODIA_OIDC_CLIENT_ID'),
    ...(clientSecret ? { clientSecret } : {}),
    redirectUri,
    scopes: setting('CUSTODIA_OIDC_SCOPES', env) ?? SETTINGS.CUSTODIA_OIDC_SCOPES.default,
    userClaim: setting('CUSTODIA_OIDC_USER_CLAIM', env) ?? SETTINGS.CUSTODIA_OIDC_USER_CLAIM.default,
    label: setting('CUSTODIA_OIDC_LABEL', env) ?? SETTINGS.CUSTODIA_OIDC_LABEL.default,
    allowHttp,
    ...(secret ? { cookieSecret: secret } : {}),
  };
}

export type LogFormat = 'text' | 'json';

/** How log lines are written (`CUSTODIA_LOG_FORMAT`). */
export function logFormat(env: Env = process.env): LogFormat {
  const raw = (setting('CUSTODIA_LOG_FORMAT', env) ?? SETTINGS.CUSTODIA_LOG_FORMAT.default).toLowerCase();
  if (raw !== 'text' && raw !== 'json')
    throw new Error(`CUSTODIA_LOG_FORMAT must be text or json (got "${raw}")`);
  return raw;
}

/** Where the Temporal SDK serves its Prometheus metrics (`host:port`), or undefined: off. */
export function sdkMetricsAddress(env: Env = process.env): string | undefined {
  const raw = setting('CUSTODIA_SDK_METRICS_ADDRESS', env);
  if (raw === undefined) return undefined;
  if (!/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(raw))
    throw new Error(`CUSTODIA_SDK_METRICS_ADDRESS must be host:port (got "${raw}")`);
  return raw;
}

/** Deadline (ms) of each readiness check and scrape-time query. */
export function readyTimeoutMs(env: Env = process.env): number {
  return wholeNumber('CUSTODIA_READY_TIMEOUT_MS', env, { min: 50, digits: 6, what: 'a number of ms ≥ 50' });
}

/** Port of a worker-only process's `/metrics`, or undefined: none. */
export function workerMetricsPort(env: Env = process.env): number | undefined {
  const raw = setting('CUSTODIA_WORKER_METRICS_PORT', env);
  if (raw === undefined) return undefined;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535)
    throw new Error(`CUSTODIA_WORKER_METRICS_PORT must be a port number 0–65535 (got "${raw}")`);
  return Number(raw);
}

/** Most rows a register export may hold (`CUSTODIA_REGISTER_EXPORT_LIMIT`, a positive integer). */
export function registerExportLimit(env: Env = process.env): number {
  const raw =
    setting('CUSTODIA_REGISTER_EXPORT_LIMIT', env) ?? SETTINGS.CUSTODIA_REGISTER_EXPORT_LIMIT.default;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`CUSTODIA_REGISTER_EXPORT_LIMIT must be a positive integer, not "${raw}"`);
  return n;
}

/** Whether one admin may deploy at once (`CUSTODIA_SINGLE_ADMIN_DEPLOY`; development only). */
export function singleAdminDeploy(env: Env = process.env): boolean {
  const raw = (setting('CUSTODIA_SINGLE_ADMIN_DEPLOY', env) ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new Error(`CUSTODIA_SINGLE_ADMIN_DEPLOY must be true or false, got "${raw}"`);
}
