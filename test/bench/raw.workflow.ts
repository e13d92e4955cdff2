/**
 * Benchmark limit: the architecture's floor for one transition — a Temporal update `event` whose
 * handler does nothing else. Same argument and result shape as the interpreter's and the
 * baseline's (so the client side is identical), the next state from a fixed table, no validator,
 * no activity, no timer, no search attribute. What Custodia and the hand-written baseline add on
 * top of this is the cost of their work (checks, the durable audit record, visibility).
 */
import { condition, setHandler } from '@temporalio/workflow';
import { eventUpdate, type EventResult } from '../../workflows/api.ts';

export const RAW_WORKFLOW_TYPE = 'rawUpdate';

const NEXT: Record<string, string> = { SUBMIT: 'reviewing', RETURN: 'drafting', APPROVE: 'approved' };

export async function rawUpdate(): Promise<{ state: string; seq: number }> {
  let state = 'drafting';
  let seq = 0;
  setHandler(eventUpdate, (event): EventResult => {
    state = NEXT[event.type] ?? state;
    seq++;
    return { state, leaves: [state], seq, done: state === 'approved', available: [] };
  });
  await condition(() => state === 'approved');
  return { state, seq };
}
