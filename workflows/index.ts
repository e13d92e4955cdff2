/** Workflow entry point bundled by the worker: every workflow type the `custodia` task queue runs. */
export { procedure } from './procedure.workflow.ts';
