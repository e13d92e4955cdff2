/** The shapes of values the API accepts, shared by its route declarations (and so by its OpenAPI document). */

/** A workflow id or procedure id. */
export const ID = '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$';
/** An event type. */
export const EVENT = '^[A-Za-z][A-Za-z0-9_.-]{0,99}$';
/** A value compared with a search attribute in a visibility query (no quotes, backslashes, line breaks). */
export const KEYWORD = "^[^'\\\\\\n\\r]{1,200}$";
/**
 * A value compared with a KeywordList search attribute (state, awaiting): no double quote either —
 * SQLite visibility matches lists with full-text search, where a `"` is a syntax error.
 */
export const LIST_KEYWORD = '^[^\'"\\\\\\n\\r]{1,200}$';
/** Temporal's visibility page token, base64url. */
export const PAGE_TOKEN = '^[A-Za-z0-9_-]{1,8192}$';
/** An ISO-8601 duration (checked further by the handler). */
export const DURATION = '^P[0-9A-Z.]{1,30}$';
/** A definition version. */
export const VERSION = '^[0-9A-Za-z.+-]{1,64}$';
/** A draft's file name, for diagnostics. */
export const FILE_NAME = '^[A-Za-z0-9._/-]{1,200}$';

/** A string property matching `pattern`. */
export const matching = (pattern: string, description?: string): Record<string, unknown> => ({
  type: 'string',
  pattern,
  ...(description ? { description } : {}),
});

/** A page size. */
export const LIMIT = { type: 'integer', minimum: 1, maximum: 500 };
