/**
 * The diagram's edges of a calling state (`call:`): one per outcome of the called procedure — each
 * final state under `on_done`, failed, cancelled — from the calling state to where it leads,
 * labelled with the callee and the outcome.
 */
import type { StateIR } from '../../../workflows/core/ir.ts';
import { callEventType } from '../../../workflows/core/call.ts';

/** Labels of the outcomes (the reader's language); absent: the outcome names themselves. */
export interface CallTexts {
  failed: string;
  cancelled: string;
}

export interface CallEdge {
  from: string;
  to: string;
  event: string;
  kind: 'call';
  label: string;
  detail: string;
}

export function callEdges(node: StateIR, texts?: CallTexts): CallEdge[] {
  const call = node.call;
  if (!call) return [];
  const edge = (to: string | undefined, event: string, outcome: string): CallEdge[] =>
    to === undefined || to === ''
      ? []
      : [
          {
            from: node.path,
            to,
            event,
            kind: 'call',
            label: `↩ ${outcome}`,
            detail: `${call.procedure}: ${event}`,
          },
        ];
  return [
    ...Object.entries(call.onDone).flatMap(([final, t]) =>
      edge(t.target, callEventType(node.path, { done: final }), final),
    ),
    ...edge(call.onFailed.target, callEventType(node.path, 'failed'), texts?.failed ?? 'failed'),
    ...edge(call.onCancelled.target, callEventType(node.path, 'cancelled'), texts?.cancelled ?? 'cancelled'),
  ];
}
