/**
 * Small data hooks: `useApi` (load, reload, error) and process-wide caches of what rarely changes
 * within a session — the definitions list, pinned IRs (immutable per procedure@version) and the
 * procedure's clauses.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiError } from './api.ts';
import { api, asApiError } from './api.ts';
import type { ProcedureIR, Text } from '../../workflows/core/ir.ts';
import type { Clause, DefinitionDetail, DefinitionSummary, PinnedDefinition } from './types.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

/** Run `load` when `key` changes (and on `reload()`); aborts the previous run. */
export function useApi<T>(key: string, load: (signal: AbortSignal) => Promise<T>): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loadRef.current(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setState({ data, loading: false });
      },
      (err: unknown) => {
        if (ctl.signal.aborted) return;
        setState((s) => ({ ...s, error: asApiError(err), loading: false }));
      },
    );
    return () => ctl.abort();
  }, [key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

const cache = new Map<string, Promise<unknown>>();

/** A cached GET (dropped again when it fails, so a retry asks again). */
function cached<T>(path: string, query?: Record<string, string>): Promise<T> {
  const key = path + '?' + new URLSearchParams(query ?? {}).toString();
  let p = cache.get(key) as Promise<T> | undefined;
  if (!p) {
    p = api<T>('GET', path, undefined, query ? { query } : {});
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/** Forget cached answers (on sign-out: another user may see other things). */
export function clearCache(): void {
  cache.clear();
}

export function loadDefinitions(): Promise<DefinitionSummary[]> {
  return cached<{ definitions: DefinitionSummary[] }>('/api/definitions').then((r) => r.definitions);
}

/** The current definition of a procedure (IR included). */
export function loadDefinition(id: string): Promise<DefinitionDetail> {
  return cached<DefinitionDetail>(`/api/definitions/${encodeURIComponent(id)}`);
}

/** A pinned, deployed version's IR (immutable: cached for the session). */
export function loadPinned(id: string, version: string): Promise<PinnedDefinition> {
  return cached<PinnedDefinition>(`/api/definitions/${encodeURIComponent(id)}`, { version });
}

export function loadClauses(): Promise<Map<string, Clause>> {
  return cached<{ clauses: Clause[] }>('/api/clauses').then((r) => new Map(r.clauses.map((c) => [c.id, c])));
}

/** The definitions list (procedure titles and role names for tables), `[]` until loaded. */
export function useDefinitions(): DefinitionSummary[] {
  const [defs, setDefs] = useState<DefinitionSummary[]>([]);
  useEffect(() => {
    let live = true;
    loadDefinitions().then(
      (d) => live && setDefs(d),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);
  return defs;
}

/** Current IRs of the given procedures (for state titles in lists), filled in as they arrive. */
export function useIRs(ids: readonly string[]): Map<string, ProcedureIR> {
  const [irs, setIrs] = useState<Map<string, ProcedureIR>>(new Map());
  const key = [...new Set(ids)].sort().join(',');
  useEffect(() => {
    let live = true;
    for (const id of key ? key.split(',') : [])
      loadDefinition(id).then(
        (d) => live && setIrs((m) => (m.has(id) ? m : new Map(m).set(id, d.ir))),
        () => undefined,
      );
    return () => {
      live = false;
    };
  }, [key]);
  return irs;
}

export function useClauses(): Map<string, Clause> {
  const [clauses, setClauses] = useState<Map<string, Clause>>(new Map());
  useEffect(() => {
    let live = true;
    loadClauses().then(
      (c) => live && setClauses(c),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);
  return clauses;
}

/** Role display names across all definitions. */
export function roleNames(defs: readonly DefinitionSummary[]): Map<string, Text> {
  const m = new Map<string, Text>();
  for (const d of defs) for (const [id, t] of Object.entries(d.roles)) if (!m.has(id)) m.set(id, t);
  return m;
}
