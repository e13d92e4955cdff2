/** The engine's own procedure of a definition change (four-eyes deployment). */
export const DEFINITION_CHANGE = 'definition_change';
