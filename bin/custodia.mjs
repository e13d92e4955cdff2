#!/usr/bin/env node
// The `custodia` CLI. Runs the TypeScript sources through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../worker/cli/main.ts');
