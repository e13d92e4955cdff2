#!/usr/bin/env node
// Builds the CLI bundle: worker/cli/main.ts and everything of ours it imports, transpiled and
// bundled by Vite (library/SSR build, packages from node_modules left as imports) into
// dist/cli/ (git-ignored), with dist/cli/manifest.json listing every source file that went in
// (size, mtime, SHA-256). bin/custodia.mjs runs the bundle only while every one of those files is
// unchanged (./cli-bundle.mjs), else it runs the sources through tsx's loader as before.
// Run by `npm ci` / `npm install` (the `prepare` script, with --optional: a failed build only warns,
// the CLI then runs its sources) and by `npm run build:cli`.
//
// `import.meta.url` in a bundled module is rewritten to the URL of its source file (relative to
// the bundle), so paths the sources resolve from their own location (the repository root, the
// worker threads' scripts, the workflows folder) stay what they are when run from source.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BUNDLE_DIR, MANIFEST, ROOT } from './cli-bundle.mjs';

async function buildCli() {
  const started = performance.now();
  const outDir = path.join(ROOT, BUNDLE_DIR);
  const { build } = await import('vite');

  const ours = (id) => id.startsWith(ROOT + path.sep) && !id.includes(`${path.sep}node_modules${path.sep}`);

  /** `import.meta.url` of a source module, as seen from its output file (`preserveModules`: same place under `outDir`). */
  const sourceUrlPlugin = {
    name: 'custodia-source-import-meta-url',
    transform(code, id) {
      const file = id.split('?')[0];
      if (!ours(file) || !code.includes('import.meta.url')) return null;
      const output = path.join(outDir, path.relative(ROOT, file));
      const rel = path.relative(path.dirname(output), file).split(path.sep).join('/');
      return {
        code: code.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`),
        map: null,
      };
    },
  };

  rmSync(outDir, { recursive: true, force: true });
  const result = await build({
    configFile: false,
    root: ROOT,
    logLevel: 'warn',
    publicDir: false,
    plugins: [sourceUrlPlugin],
    build: {
      ssr: path.join(ROOT, 'worker/cli/main.ts'),
      outDir,
      emptyOutDir: true,
      target: 'node20',
      minify: false,
      sourcemap: true,
      reportCompressedSize: false,
      rollupOptions: {
        // One output file per source module, where the source is: each command still loads only
        // what it imports (`validate` never loads the Temporal client), as when run from source.
        output: {
          format: 'esm',
          preserveModules: true,
          preserveModulesRoot: ROOT,
          entryFileNames: '[name].mjs',
        },
      },
    },
    ssr: { target: 'node' },
  });

  const outputs = (Array.isArray(result) ? result : [result]).flatMap((r) => r.output ?? []);
  const inputs = new Set([fileURLToPath(import.meta.url), path.join(ROOT, 'bin/cli-bundle.mjs')]);
  for (const chunk of outputs)
    if (chunk.type === 'chunk')
      for (const id of chunk.moduleIds ?? Object.keys(chunk.modules ?? {})) {
        const file = id.split('?')[0];
        if (ours(file)) inputs.add(file);
      }
  const ENTRY = 'worker/cli/main.mjs';
  if (!outputs.some((o) => o.fileName === ENTRY))
    throw new Error(`build-cli: no ${ENTRY} in the build output`);

  const files = {};
  for (const file of [...inputs].sort()) {
    const st = statSync(file);
    files[path.relative(ROOT, file).split(path.sep).join('/')] = {
      size: st.size,
      mtimeMs: st.mtimeMs,
      ctimeMs: st.ctimeMs,
      sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
    };
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, MANIFEST), `${JSON.stringify({ entry: ENTRY, files }, null, 1)}\n`);
  console.log(
    `custodia CLI bundle: ${BUNDLE_DIR}/${ENTRY} from ${Object.keys(files).length} source files in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

try {
  await buildCli();
} catch (err) {
  if (!process.argv.includes('--optional')) throw err;
  console.warn(
    `custodia: the CLI bundle was not built (${err instanceof Error ? err.message : String(err)}); the CLI runs its TypeScript sources`,
  );
}
