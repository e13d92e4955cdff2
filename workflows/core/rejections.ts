/**
 * The closed set of codes with which the engine refuses an event (the `event` update's validator
 * and the pure runtime): `BAD_EVENT` for a malformed update argument (thrown by
 * `workflows/procedure.workflow.ts`'s validator), the others as the runtime names them. Maps over
 * them are typed `Record<RejectionCode, …>`, so a new code cannot be forgotten by the API or the UI.
 */
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
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];
