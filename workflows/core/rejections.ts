export const REJECTION_CODES = [
  'INSTANCE_FINISHED',
  'UNKNOWN_EVENT',
  'CANNOT_TAKE',
  'ROLE_NOT_ALLOWED',
  'DUTY_CONFLICT',
  'INVALID_DATA',
  'GUARD_FALSE',
  'BAD_ACTOR',
  'BAD_EVENT',
  /** The state's task is assigned to someone else, or must be assigned first (`assignment.ts`). */
  'NOT_ASSIGNEE',
  /** `assign`: someone else holds the task (a claim lost the race); the message names them. */
  'ASSIGNMENT_CONFLICT',
  /** `assign`: the actor may not make this assignment (not a manager, not the holder, opted out). */
  'ASSIGNMENT_NOT_ALLOWED',
  /** `assign`: the assignee holds none of the roles the state awaits. */
  'ASSIGNEE_NOT_QUALIFIED',
  /** `assign`: malformed, or names no active state (or several could be meant). */
  'BAD_ASSIGNMENT',
  /** An attached file's reference is malformed, of a refused kind or type, or has no valid receipt (`attachments.ts`). */
  'BAD_ATTACHMENT',
  /** The event requires an attached file of a kind it was sent without (`attachments.ts`). */
  'ATTACHMENT_REQUIRED',
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

/**
 * Why an event was refused: the `code` is stable (clients and the UI map it, the update failure
 * carries it as its details); the `message` (English) and `zh` (the same in Chinese) are for people:
 * the API answers each user in their language. Values a person wrote (guards, data problems from
 * the JSON Schema validator) are quoted as they are.
 */
export interface Rejection {
  code: RejectionCode;
  message: string;
  zh: string;
}

/** The message of a rejection in `lang` (English unless Chinese is asked for). */
export function rejectionMessage(r: Pick<Rejection, 'message' | 'zh'>, lang: 'zh' | 'en'): string {
  return lang === 'zh' && r.zh ? r.zh : r.message;
}

/** Is `code` one of the engine's rejection codes (e.g. read back from a failure's details)? */
export function isRejectionCode(code: unknown): code is RejectionCode {
  return typeof code === 'string' && (REJECTION_CODES as readonly string[]).includes(code);
}
