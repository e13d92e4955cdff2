/** What `GET /api/records` and `GET /api/records/{name}` answer (worker/api/routes/records.route.ts). */
import type { Text } from '../../../../workflows/core/ir.ts';

export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'datetime' | 'list';

export interface RegisterField {
  name: string;
  title: Text;
  type: FieldType;
}

export interface Register {
  name: string;
  title: Text;
  description?: Text;
  fields: RegisterField[];
  correctors: string[];
  procedures: string[];
}

export interface RegisterSummary extends Register {
  count: number;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Correction {
  id: number;
  at: string;
  by: string;
  reason: string;
  fields: Record<string, Json>;
}

export interface RegisterRow {
  workflowId: string;
  seq: number;
  idx: number;
  at: string;
  client?: string;
  procedure?: string;
  version?: string;
  event?: string;
  actor?: string;
  fields: Record<string, Json>;
  corrections: Correction[];
}

export interface RowsPage {
  register: Register;
  rows: RegisterRow[];
  /** On the first page only. */
  total?: number;
  next?: string;
}

/** The filters a register page keeps in its URL (field filters as `field.<name>`). */
export const FIXED_FILTERS = ['client', 'from', 'to', 'procedure', 'workflowId'] as const;
