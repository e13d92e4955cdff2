/**
 * The analyses a pack reports, computed from the definitions' IR alone: the all-paths proof of
 * each version's invariants (`verifyProcedure`, the verifier `custodia verify` runs) and the clause
 * coverage of the versions in force (`computeCoverage`, the logic of `custodia coverage`). Both are
 * deterministic per IR, so proofs are cached by definition hash.
 */
import type { Text } from '../../workflows/core/ir.ts';
import { verifyProcedure } from '../../workflows/core/verify.ts';
import type { Warning } from '../../workflows/core/verify.ts';
import { computeCoverage, type CoverageReport } from '../cli/coverage.ts';
import type { EvidenceData, PackDefinition } from './types.ts';
import { BoundedMap } from '../bounded-map.ts';

export interface InvariantProof {
  id: string;
  kind: string;
  description: Text;
  clauses: string[];
  holds: boolean;
  note?: string;
}

export interface DefinitionProof {
  procedure: string;
  version: string;
  hash: string;
  /** Every reachable configuration was explored. */
  exhaustive: boolean;
  explored: number;
  invariants: InvariantProof[];
  warnings: Warning[];
}

const cache = new BoundedMap<string, DefinitionProof>(64);

/** Prove one definition version's invariants on all paths (cached by hash). */
export function proveDefinition(def: PackDefinition): DefinitionProof {
  const hit = cache.get(def.hash);
  if (hit) return hit;
  const r = verifyProcedure(def.ir);
  const proof: DefinitionProof = {
    procedure: def.procedure,
    version: def.version,
    hash: def.hash,
    exhaustive: r.exhaustive,
    explored: r.explored,
    invariants: r.invariants.map((inv) => {
      const ir = def.ir.invariants.find((i) => i.id === inv.id);
      return {
        id: inv.id,
        kind: inv.kind,
        description: ir?.description ?? { zh: '', en: '' },
        clauses: ir?.clauses ?? [],
        holds: inv.holds,
        ...(inv.note ? { note: inv.note } : {}),
      };
    }),
    warnings: r.warnings,
  };
  if (cache.size > 200) cache.clear();
  cache.set(def.hash, proof);
  return proof;
}

/** Clause coverage of the versions in force at the end of the period. */
export function packCoverage(data: EvidenceData): CoverageReport {
  const inForce = data.definitions
    .filter((d) => d.inForce)
    .map((d) => ({ file: `${d.procedure}@${d.version}`, ir: d.ir }));
  return computeCoverage(data.clauses, inForce, data.tests, data.coverageNotes);
}
