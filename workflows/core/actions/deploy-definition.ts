/**
 * `deploy_definition: { yaml, sha256 }`: deploy a definition text as a new version — the approval
 * step of the engine's own `definition_change` procedure (four-eyes deployment). A
 * `deploy_definition` effect: the worker validates and proves the text again, deploys it all or
 * nothing (`worker/activities/deploy-definition.ts`), and sends the outcome back to the instance
 * as `DEPLOYED` or `DEPLOY_FAILED`.
 */
import type { DeployDefinitionAction } from '../ir.ts';
import { evaluateAll, scopeOf, type MachineContext, type MachineEvent } from '../machine-context.ts';
import { joinPointer } from '../positions.ts';
import type { ActionKind } from './kind.ts';

/** The effect (a type alias, so it is plain `Json`): the text to deploy and the hash it must have. */
export type DeployDefinitionEffect = {
  kind: 'deploy_definition';
  yaml: string;
  sha256: string;
};

/**
 * The one procedure that may deploy: the engine's own, whose duties make a second admin approve.
 * Any other procedure carrying this action would let one role deploy alone.
 */
export const DEPLOYING_PROCEDURE = 'definition_change';

/**
 * The role the engine itself (`$custodia`) reports a deployment's outcome under. No person holds it:
 * it is not offered or grantable to users (`worker/roles.ts`).
 */
export const DEPLOY_REPORTER_ROLE = 'deployer';

export const deployDefinition: ActionKind<DeployDefinitionAction> = {
  reportsToInstance: true,
  normalize(value) {
    const { yaml, sha256 } = value as { yaml: string; sha256: string };
    return { kind: 'deploy_definition', yaml, sha256 };
  },
  check(cx, _action, site) {
    if (cx.ir.id === DEPLOYING_PROCEDURE) return;
    cx.report(
      'PROC_ENGINE_ONLY_ACTION',
      site.pointer,
      `deploy_definition in ${site.where}: only the engine's own "${DEPLOYING_PROCEDURE}" procedure deploys definitions`,
      { at: 'key', hint: `deploy through POST /api/definitions (a "${DEPLOYING_PROCEDURE}" proposal)` },
    );
  },
  expressions: (action, pointer) => [
    { source: action.yaml, pointer: joinPointer(pointer, 'yaml') },
    { source: action.sha256, pointer: joinPointer(pointer, 'sha256') },
  ],
  compile: (action) => ({
    type: '$effect',
    params: ({
      context,
      event,
    }: {
      context: MachineContext;
      event: MachineEvent;
    }): DeployDefinitionEffect => {
      const v = evaluateAll({ yaml: action.yaml, sha256: action.sha256 }, scopeOf(context, event));
      return {
        kind: 'deploy_definition',
        yaml: typeof v.yaml === 'string' ? v.yaml : '',
        sha256: typeof v.sha256 === 'string' ? v.sha256 : '',
      };
    },
  }),
};
