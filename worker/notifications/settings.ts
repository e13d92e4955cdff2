/**
 * How notifications go out, from the environment — every read in this one function, so the
 * settings module (worker/settings.ts) can take it over as a section later.
 *
 * | variable | meaning |
 * |---|---|
 * | `CUSTODIA_SMTP_HOST` | SMTP server; unset → no e-mail is sent (the outbox keeps it, admins see it pending) |
 * | `CUSTODIA_SMTP_PORT` | default 587, or 465 when secure |
 * | `CUSTODIA_SMTP_SECURE` | `1`/`true`: TLS from the first byte (port 465); otherwise STARTTLS when offered |
 * | `CUSTODIA_SMTP_USER`, `CUSTODIA_SMTP_PASSWORD` | authentication (both or neither) |
 * | `CUSTODIA_SMTP_FROM` | the From address (default `custodia@<host of the public URL>`) |
 * | `CUSTODIA_PUBLIC_URL` | where people open the UI, e.g. `https://custodia.example.cn`: links in e-mails |
 * | `CUSTODIA_NOTIFY_POLL_MS` | how often the outbox is looked at (default 5000) |
 * | `CUSTODIA_NOTIFY_LEASE_MS` | a claim's lease; a dead sender's rows are retaken after it (default 120000) |
 * | `CUSTODIA_NOTIFY_SEND_TIMEOUT_MS` | longest one SMTP send may take (default 40000); no send starts with less lease left |
 * | `CUSTODIA_NOTIFY_MAX_ATTEMPTS` | attempts before a row is `failed` (default 10) |
 * | `CUSTODIA_NOTIFY_BACKOFF_MS` | first retry delay, doubled each time up to 1 h (default 30000) |
 */
import { setting } from '../settings.ts';

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  auth?: { user: string; pass: string };
  from: string;
}

export interface NotificationSettings {
  /** Absent: e-mail is not configured. */
  smtp?: SmtpSettings;
  /** Base URL of the web UI, without a trailing slash; absent: e-mails carry the instance id only. */
  publicUrl?: string;
  pollMs: number;
  leaseMs: number;
  /**
   * The longest one send may take (SMTP timeouts); a sender starts no send with less of its lease
   * left, so a claimed row is never sent after its lease expired and another sender took it.
   */
  sendTimeoutMs: number;
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  /** Rows claimed at a time. */
  batch: number;
}

export class NotificationSettingsError extends Error {
  override name = 'NotificationSettingsError';
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new NotificationSettingsError(`${name} must be an integer ≥ ${min} (got ${JSON.stringify(raw)})`);
  return n;
}

/** The notification settings from `env` (default `process.env`); throws on malformed values. */
export function notificationSettings(env: NodeJS.ProcessEnv = process.env): NotificationSettings {
  let publicUrl: string | undefined;
  const publicUrlSetting = setting('CUSTODIA_PUBLIC_URL', env);
  if (publicUrlSetting) {
    let u: URL;
    try {
      u = new URL(publicUrlSetting);
    } catch {
      throw new NotificationSettingsError(`CUSTODIA_PUBLIC_URL is not a URL: ${publicUrlSetting}`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:')
      throw new NotificationSettingsError('CUSTODIA_PUBLIC_URL must be an http(s) URL');
    publicUrl = u.toString().replace(/\/+$/, '');
  }
  const settings: NotificationSettings = {
    ...(publicUrl ? { publicUrl } : {}),
    pollMs: int(env, 'CUSTODIA_NOTIFY_POLL_MS', 5000),
    leaseMs: int(env, 'CUSTODIA_NOTIFY_LEASE_MS', 120_000),
    sendTimeoutMs: int(env, 'CUSTODIA_NOTIFY_SEND_TIMEOUT_MS', 40_000),
    maxAttempts: int(env, 'CUSTODIA_NOTIFY_MAX_ATTEMPTS', 10),
    backoffMs: int(env, 'CUSTODIA_NOTIFY_BACKOFF_MS', 30_000),
    maxBackoffMs: 3600_000,
    batch: 50,
  };
  if (settings.sendTimeoutMs * 2 > settings.leaseMs)
    throw new NotificationSettingsError(
      'CUSTODIA_NOTIFY_LEASE_MS must be at least twice CUSTODIA_NOTIFY_SEND_TIMEOUT_MS',
    );
  const host = setting('CUSTODIA_SMTP_HOST', env);
  if (!host) return settings;
  const secure = /^(1|true|yes)$/i.test(setting('CUSTODIA_SMTP_SECURE', env) ?? '');
  const user = setting('CUSTODIA_SMTP_USER', env);
  const pass = setting('CUSTODIA_SMTP_PASSWORD', env);
  if (Boolean(user) !== Boolean(pass))
    throw new NotificationSettingsError('set both CUSTODIA_SMTP_USER and CUSTODIA_SMTP_PASSWORD, or neither');
  const domain = publicUrl ? new URL(publicUrl).hostname : 'localhost';
  settings.smtp = {
    host,
    port: int(env, 'CUSTODIA_SMTP_PORT', secure ? 465 : 587),
    secure,
    ...(user && pass ? { auth: { user, pass } } : {}),
    from: setting('CUSTODIA_SMTP_FROM', env) || `custodia@${domain}`,
  };
  return settings;
}
