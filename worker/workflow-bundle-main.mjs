// The workflow bundler's own process (workflow-bundle-build.ts): webpack's few hundred MB are
// given back to the system when it exits instead of staying in the worker's RSS. Plain JS so it
// starts without a build step; the TypeScript it imports goes through tsx's loader, as
// draft-worker.mjs does. Input: the actor keys (JSON array) on stdin; output: the bundle's code
// on stdout.
import { register } from 'tsx/esm/api';

register();
const { buildWorkflowBundle } = await import('./worker.ts');

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
const { code } = await buildWorkflowBundle(JSON.parse(input));
process.stdout.write(code, () => process.exit(0));
