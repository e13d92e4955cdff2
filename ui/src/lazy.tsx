/**
 * Parts other engineers build — the statechart diagram (`diagram/Diagram.tsx`) and the admin
 * pages (`admin/index.tsx`) — loaded on demand, so the inbox does not wait for ELK or CodeMirror.
 */
import { lazy } from 'react';

export const Diagram = lazy(() => import('./diagram/Diagram.tsx').then((m) => ({ default: m.Diagram })));
export const DefinitionsPage = lazy(() =>
  import('./admin/index.tsx').then((m) => ({ default: m.DefinitionsPage })),
);
export const DefinitionEditorPage = lazy(() =>
  import('./admin/index.tsx').then((m) => ({ default: m.DefinitionEditorPage })),
);
