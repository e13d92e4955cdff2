/** Workflow entry point of the benchmark worker: the interpreter and the hand-written baseline. */
export { procedure } from '../../workflows/procedure.workflow.ts';
export { baselineReview } from './baseline.workflow.ts';
