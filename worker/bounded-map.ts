/**
 * The in-process caches keyed by definition version (a hash): a version never changes, so an
 * entry is never stale, but a long-lived process sees more versions over time (every deployment
 * is one) and would keep each one's compiled form for its life. This Map keeps the `limit` most
 * recently used entries and drops the least recently used one beyond that.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly limit: number) {
    super();
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`a BoundedMap keeps at least 1 entry, not ${limit}`);
  }

  override get(key: K): V | undefined {
    if (!super.has(key)) return undefined;
    const value = super.get(key) as V;
    // Most recently used last: Map iterates in insertion order.
    super.delete(key);
    super.set(key, value);
    return value;
  }

  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    while (this.size > this.limit) super.delete(this.keys().next().value as K);
    return this;
  }
}
