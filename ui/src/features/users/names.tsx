/**
 * Users' display names where the engine records ids (timeline, audit, inbox): `GET
 * /api/users/names` once per session (cached like the definitions), `useUserNames()` for a map and
 * `<UserName id>` for one person — the name, with the id beside it for those who need it.
 */
import { useEffect, useState } from 'react';
import { api } from '../../api.ts';

let names: Promise<Map<string, string>> | undefined;

/** Forget the names (after a change in the directory, or on sign-out). */
export function forgetUserNames(): void {
  names = undefined;
}

function loadNames(): Promise<Map<string, string>> {
  if (!names) {
    const p = api<{ names: Record<string, string> }>('GET', '/api/users/names').then(
      (r) => new Map(Object.entries(r.names)),
    );
    p.catch(() => {
      if (names === p) names = undefined;
    });
    names = p;
  }
  return names;
}

/** Display names by user id (empty until loaded, or when they cannot be read). */
export function useUserNames(): Map<string, string> {
  const [map, setMap] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    let live = true;
    loadNames().then(
      (m) => live && setMap(m),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);
  return map;
}

/** A person by display name, the id as a quieter second part (only the id when the name is unknown). */
export function UserName({ id, names }: { id: string; names: Map<string, string> }) {
  const name = names.get(id);
  if (!name || name === id) return <span className="user-ref">{id}</span>;
  return (
    <span className="user-ref" title={id}>
      {name} <span className="muted mono">{id}</span>
    </span>
  );
}
