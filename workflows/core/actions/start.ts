/**
 * `start: { procedure, input }`: start another procedure as a separate instance linked to this
 * one (e.g. the violation case a visit opens). A `start` effect; whether the procedure is deployed
 * and takes that input is checked against the deployed definitions (worker side).
 */
import type { Json, StartAction } from '../ir.ts';
import { evaluateAll, scopeOf, type MachineContext, type MachineEvent } from '../machine-context.ts';
import { joinPointer } from '../positions.ts';
import type { ActionKind } from './kind.ts';

/** The effect (a type alias, so it is plain `Json`): which procedure, and the new instance's evaluated start input. */
export type StartEffect = {
  kind: 'start';
  procedure: string;
  input: Record<string, Json>;
};

export const start: ActionKind<StartAction> = {
  normalize(value) {
    const { procedure, input } = value as { procedure: string; input?: Record<string, string> };
    return input ? { kind: 'start', procedure, input } : { kind: 'start', procedure };
  },
  check: () => {},
  expressions: (action, pointer) =>
    Object.entries(action.input ?? {}).map(([field, source]) => ({
      source,
      pointer: joinPointer(pointer, 'input', field),
    })),
  compile: (action) => ({
    type: '$effect',
    params: ({ context, event }: { context: MachineContext; event: MachineEvent }): StartEffect => ({
      kind: 'start',
      procedure: action.procedure,
      input: evaluateAll(action.input ?? {}, scopeOf(context, event)),
    }),
  }),
};
