/** Shapes of the definitions API (`/api/definitions…`) as the admin pages read them. */
import type { Diagnostic } from '../../../workflows/core/diagnostics.ts';
import type { ProcedureIR, Text } from '../../../workflows/core/ir.ts';

export interface DefinitionSummary {
  id: string;
  version: string;
  hash: string;
  title: Text;
  description?: Text;
  roles: Record<string, Text>;
  events: string[];
}

export interface DeployedVersion {
  version: string;
  hash: string;
  deployedBy: string;
  deployedAt: string;
}

export interface DefinitionDetail extends DefinitionSummary {
  ir: ProcedureIR;
  /** The deployed YAML (absent when the running definition has no deployment record). */
  yaml?: string;
  deployedBy?: string;
  deployedAt?: string;
  versions: DeployedVersion[];
}

export interface DeployResult extends DeployedVersion {
  id: string;
  diagnostics: Diagnostic[];
}

/** `POST /api/definitions` → 202: a `definition_change` instance a second admin must approve. */
export interface ProposalResult {
  workflowId: string;
  id: string;
  version: string;
  sha256: string;
  /** Safeguards of the current version the change drops or alters. */
  weakened: string[];
}

export interface ServerValidation {
  valid: boolean;
  id?: string;
  version?: string;
  hash?: string;
  diagnostics: Diagnostic[];
}
