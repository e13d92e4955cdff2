/**
 * What the records can hold: the audit log and registers are PostgreSQL `jsonb`, which has no NUL
 * character and no broken UTF-16. Start input and event data are refused up front when they carry
 * either, so an accepted event can always be recorded.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Where a value (keys included) holds text the records cannot store, in words; undefined when none. */
export function unstorableText(value: unknown, path = ''): string | undefined {
  const bad = (text: string): boolean => text.includes('\u0000') || LONE_SURROGATE.test(text);
  if (typeof value === 'string')
    return bad(value) ? `${path || 'a value'} contains a NUL character or invalid Unicode` : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableText(value[i], `${path}/${i}`);
      if (found) return found;
    }
    return undefined;
  }
  if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (bad(k)) return `a field name under ${path || '/'} contains a NUL character or invalid Unicode`;
      const found = unstorableText(v, `${path}/${k}`);
      if (found) return found;
    }
  return undefined;
}
