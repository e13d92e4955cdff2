/** Workflow entry point of the benchmark worker: the interpreter, the hand-written baseline and the raw-update limit. */
export { procedure } from '../../workflows/procedure.workflow.ts';
export { baselineReview } from './baseline.workflow.ts';
export { rawUpdate } from './raw.workflow.ts';
