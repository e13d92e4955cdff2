#!/usr/bin/env node
// The `custodia` CLI, on the Node.js that `npm ci` installs (./require-node.mjs stops an older one
// with how to get it). Runs the prebuilt bundle (dist/cli, built by `npm ci` / `npm run build:cli`
// from worker/cli/main.ts, ./build-cli.mjs) when every source file in it is unchanged
// (./cli-bundle.mjs); otherwise — no bundle, or any source edited since — the TypeScript sources
// through tsx's loader, so a stale bundle never runs old code.
import './require-node.mjs';
import { freshBundle } from './cli-bundle.mjs';

const bundle = freshBundle();
if (bundle.entry) {
  const { pathToFileURL } = await import('node:url');
  await import(pathToFileURL(bundle.entry).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../worker/cli/main.ts');
}
