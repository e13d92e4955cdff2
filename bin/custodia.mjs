#!/usr/bin/env node
// The `custodia` CLI, on the Node.js that `npm ci` installs (./require-node.mjs stops an older one
// with how to get it). Runs the prebuilt bundle (dist/bundle, built by `npm ci` /
// `npm run build:bundle` by ./build-cli.mjs) when every source file of worker/cli/main.ts in it is
// unchanged; otherwise — no bundle, or any source edited since — the TypeScript sources through
// tsx's loader, so a stale bundle never runs old code (./cli-bundle.mjs).
import './require-node.mjs';
import { runEntry } from './cli-bundle.mjs';

await runEntry('worker/cli/main.ts');
