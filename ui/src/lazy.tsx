/**
 * Parts other engineers build (the statechart diagram, the admin pages) are loaded with
 * `import.meta.glob`, so this shell builds whether or not they exist yet and each loads on demand.
 */
import { lazy, type ComponentType } from 'react';
import type { ProcedureIR } from '../../workflows/core/ir.ts';

export interface DiagramProps {
  ir: ProcedureIR;
  active?: string[];
  visited?: string[];
  taken?: { from: string; to: string; event?: string }[];
  onSelectState?: (id: string) => void;
  height?: number;
}

export interface AdminPageProps {
  id?: string;
  navigate: (path: string) => void;
}

const diagramModules = import.meta.glob<{ Diagram: ComponentType<DiagramProps> }>('./diagram/Diagram.tsx');
const adminModules = import.meta.glob<{
  DefinitionsPage: ComponentType<AdminPageProps>;
  DefinitionEditorPage: ComponentType<AdminPageProps>;
}>('./admin/index.tsx');

const diagramLoader = Object.values(diagramModules)[0];
const adminLoader = Object.values(adminModules)[0];

export const Diagram: ComponentType<DiagramProps> | undefined = diagramLoader
  ? lazy(async () => ({ default: (await diagramLoader()).Diagram }))
  : undefined;

export const DefinitionsPage: ComponentType<AdminPageProps> | undefined = adminLoader
  ? lazy(async () => ({ default: (await adminLoader()).DefinitionsPage }))
  : undefined;

export const DefinitionEditorPage: ComponentType<AdminPageProps> | undefined = adminLoader
  ? lazy(async () => ({ default: (await adminLoader()).DefinitionEditorPage }))
  : undefined;
