#!/usr/bin/env node
// `npm start` (`node bin/launch.mjs worker/main.ts`) and `npm run worker`
// (`node bin/launch.mjs worker/worker-main.ts`), on the Node.js that `npm ci` installs
// (./require-node.mjs). Runs the entry's prebuilt bundle (dist/bundle, built by `npm ci` /
// `npm run build:bundle` by ./build-cli.mjs) when every source file in it is unchanged, else its
// TypeScript sources through tsx's loader, so a stale bundle never runs old code
// (./cli-bundle.mjs). Start-up without transpiling: see the README, "`npm start` to ready".
import './require-node.mjs';
import { runEntry } from './cli-bundle.mjs';
import { relaunchWithMemorySettings } from './process-memory.mjs';

const SERVERS = ['worker/main.ts', 'worker/worker-main.ts'];
const source = process.argv[2];
if (!source || !SERVERS.includes(source)) {
  console.error(`usage: node bin/launch.mjs <${SERVERS.join(' | ')}>`);
  process.exit(2);
}
// glibc's malloc settings and V8's flags are read at start-up (./process-memory.mjs): when they are
// missing, this process is replaced by one that has them.
relaunchWithMemorySettings();
// The entry reads its own arguments: drop the launcher's one.
process.argv.splice(2, 1);
await runEntry(source);
