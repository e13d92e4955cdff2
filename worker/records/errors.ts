/**
 * Errors of the records store, classified by `code` (the HTTP API maps them to 4xx responses;
 * anything else is a server fault). Test `err.name === 'RecordsError'` or `isRecordsError`.
 */

export type RecordsErrorCode =
  /** A password shorter than the policy allows (or absurdly long). */
  | 'WEAK_PASSWORD'
  /** A malformed id, unknown role, empty name, bad TTL, … */
  | 'INVALID_INPUT'
  | 'USER_EXISTS'
  | 'UNKNOWN_USER'
  /** A different definition is already deployed under this procedure@version. */
  | 'DEFINITION_CONFLICT'
  /** The definition's hash is not the hash of its IR. */
  | 'DEFINITION_HASH_MISMATCH'
  /** The embedded store's directory is open in another process. */
  | 'STORE_IN_USE'
  /** The database was migrated by a newer Custodia. */
  | 'SCHEMA_TOO_NEW'
  /** Stored user ids that are one id once canonical (`alice`, `Alice`): resolve them before upgrading. */
  | 'USER_ID_COLLISION'
  /** A change that would leave no enabled administrator. */
  | 'LAST_ADMIN'
  /** An administrator disabling their own account. */
  | 'SELF_DISABLE'
  /** A setup or password-reset token that is unknown, used, expired or void. */
  | 'TOKEN_INVALID'
  /** The first administrator exists already: setup is over. */
  | 'SETUP_DONE'
  /** A signed audit checkpoint could not be taken (key unreadable, or the chain since the last one is broken). */
  | 'CHECKPOINT_FAILED'
  /** A register row that does not exist (or not in that register). */
  | 'UNKNOWN_RECORD';

export class RecordsError extends Error {
  override name = 'RecordsError';
  constructor(
    readonly code: RecordsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isRecordsError(err: unknown, code?: RecordsErrorCode): err is RecordsError {
  return (
    err instanceof Error &&
    err.name === 'RecordsError' &&
    (code === undefined || (err as RecordsError).code === code)
  );
}
