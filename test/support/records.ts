/**
 * Test support for the records store: an in-memory (PGlite) store opened before the tests of the
 * calling file or `describe` block and closed after them.
 */
import { afterAll, beforeAll } from 'vitest';
import { openPgliteClient, type SqlClient } from '../../worker/records/sql.ts';
import { createRecordsStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';

export interface MemoryStore {
  sql: SqlClient;
  store: RecordsStore;
}

/**
 * Register the hooks; `opened` receives the store once it is open (assign it to the file's own
 * variables: `withMemoryStore((s) => ({ sql, store } = s))`).
 */
export function withMemoryStore(opened: (s: MemoryStore) => void): void {
  let store: RecordsStore | undefined;
  beforeAll(async () => {
    const sql = await openPgliteClient(null);
    store = await createRecordsStore(sql);
    opened({ sql, store });
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });
}
