/**
 * User identity: the one canonical form of a user id (DESIGN.md, "Identity"). Two ids that differ
 * only in case, surrounding spaces or Unicode composition name the same person, so `Alice` cannot
 * approve what `alice` requested.
 *
 * Pure (no Node imports, no I/O) so `workflows/core` and the UI can use the same function.
 */

/**
 * The canonical form of a user id: trimmed, Unicode NFC, lower case (locale-independent).
 * Idempotent: `canonicalUserId(canonicalUserId(x)) === canonicalUserId(x)`.
 */
export function canonicalUserId(id: string): string {
  // Lower-casing can decompose (e.g. "İ" → "i̇"), so compose again afterwards.
  return id.trim().normalize('NFC').toLowerCase().normalize('NFC');
}

/** Whether `id` is already in canonical form. */
export function isCanonicalUserId(id: string): boolean {
  return canonicalUserId(id) === id;
}

/**
 * Ids that collide once canonical: each group lists the stored ids sharing one canonical form
 * (only groups of two or more), in input order.
 */
export function userIdCollisions(ids: readonly string[]): { canonical: string; ids: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const key = canonicalUserId(id);
    groups.set(key, [...(groups.get(key) ?? []), id]);
  }
  return [...groups]
    .filter(([, group]) => group.length > 1)
    .map(([canonical, group]) => ({ canonical, ids: group }));
}
