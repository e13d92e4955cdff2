/**
 * A tiny logger for the process's own lines (`npm start`, the API's requests). With
 * `CUSTODIA_LOG_FORMAT=json` every line is one JSON object — `time`, `level`, `msg` and the fields
 * given (`requestId`, `workflowId`, `route`, `status`, …) — for a log shipper; with `text` (the
 * default) it is `custodia: msg`, as before, and request lines are not printed.
 */
import { logFormat, type LogFormat } from './settings.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Extra fields of a line; undefined values are left out. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  readonly format: LogFormat;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** One line in the format: JSON, or `custodia: msg` (fields as ` key=value`, debug lines dropped). */
export function formatLine(
  format: LogFormat,
  level: LogLevel,
  msg: string,
  fields: LogFields = {},
  now = new Date(),
): string | undefined {
  const defined = Object.entries(fields).filter(([, v]) => v !== undefined);
  if (format === 'json')
    return JSON.stringify({ time: now.toISOString(), level, msg, ...Object.fromEntries(defined) });
  if (level === 'debug') return undefined;
  return `custodia: ${msg}${defined.map(([k, v]) => ` ${k}=${String(v)}`).join('')}`;
}

/** A logger writing to stdout (debug, info) and stderr (warn, error). */
export function createLogger(
  format: LogFormat = logFormat(),
  write: (level: LogLevel, line: string) => void = (level, line) =>
    (level === 'warn' || level === 'error' ? console.error : console.log)(line),
): Logger {
  const emit =
    (level: LogLevel) =>
    (msg: string, fields?: LogFields): void => {
      const line = formatLine(format, level, msg, fields);
      if (line !== undefined) write(level, line);
    };
  return { format, debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

let shared: Logger | undefined;

/** The process's logger (created on first use from `CUSTODIA_LOG_FORMAT`). */
export function log(): Logger {
  return (shared ??= createLogger());
}
