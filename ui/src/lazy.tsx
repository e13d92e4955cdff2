/**
 * Parts other engineers build — the statechart diagram (`diagram/Diagram.tsx`), the admin
 * pages (`admin/index.tsx`) and the dashboard (`features/dashboard`, with ECharts) — loaded on
 * demand, so the inbox does not wait for ELK, CodeMirror or ECharts.
 */
import { lazy } from 'react';

export const Diagram = lazy(() => import('./diagram/Diagram.tsx').then((m) => ({ default: m.Diagram })));
export const DefinitionsPage = lazy(() =>
  import('./admin/index.tsx').then((m) => ({ default: m.DefinitionsPage })),
);
export const DefinitionEditorPage = lazy(() =>
  import('./admin/index.tsx').then((m) => ({ default: m.DefinitionEditorPage })),
);
export const DashboardPage = lazy(() =>
  import('./features/dashboard/DashboardPage.tsx').then((m) => ({ default: m.DashboardPage })),
);
