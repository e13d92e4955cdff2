// The Node.js the project runs on: the `node` package that `npm ci` installs (node_modules/.bin/node,
// first on PATH in npm scripts and npx), whatever the system's Node is. Imported first by the entry
// points (bin/custodia.mjs, vitest.config.ts) and run by the npm scripts' pre-steps: on an older
// Node it prints one line saying how to get the right one and exits. Plain JavaScript with no
// dependencies, so that it runs on any Node.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const engines = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).engines.node;
const required = Number(/\d+/.exec(engines)[0]);
const major = Number(process.versions.node.split('.')[0]);

if (major < required) {
  const pinned = path.join(root, 'node_modules/node/bin/node');
  const howTo = existsSync(pinned)
    ? `run it with npm scripts or npx (they put node_modules/.bin first on PATH), or ${pinned} directly`
    : existsSync(path.join(root, 'node_modules/node/package.json'))
      ? "run `npm rebuild node` (the node package's install script puts the binary in place; it did not run)"
      : 'run `npm ci` in ' + root + ' (it installs Node ' + required + ' into node_modules/.bin)';
  console.error(
    `custodia needs Node.js ${required} or newer (package.json engines: ${engines}); this is ${process.version} (${process.execPath}) — ${howTo}.`,
  );
  process.exit(1);
}

if (
  process.argv[1] &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url) &&
  process.argv.includes('--print')
)
  console.log(`Node.js ${process.version} (${process.execPath})`);
