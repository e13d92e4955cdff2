#!/usr/bin/env node
// The `custodia` CLI. Runs the TypeScript sources through tsx's loader (no build step), on the
// Node.js that `npm ci` installs (./require-node.mjs stops an older one with how to get it).
import './require-node.mjs';

const { register } = await import('tsx/esm/api');
register();
await import('../worker/cli/main.ts');
