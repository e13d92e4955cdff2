#!/usr/bin/env node
// Builds the bundle of the Node entry points (./cli-bundle.mjs ENTRIES: the CLI worker/cli/main.ts,
// `npm start`'s worker/main.ts, `npm run worker`'s worker/worker-main.ts) and everything of ours
// they import, transpiled by Vite (library/SSR build, one output file per source module, packages
// from node_modules left as imports) into dist/bundle/ (git-ignored), with
// dist/bundle/manifest.json listing every source file that went in (size, mtime, SHA-256) and,
// per entry, which of them its part of the bundle holds. bin/custodia.mjs and bin/launch.mjs run
// an entry's bundle only while every one of its files is unchanged (./cli-bundle.mjs), else its
// sources through tsx's loader. Run by `npm ci` / `npm install` (the `prepare` script, with
// --optional: a failed build only warns, everything then runs from its sources) and by
// `npm run build:bundle`.
//
// `import.meta.url` in a bundled module is rewritten to the URL of its source file (relative to
// the bundle), so paths the sources resolve from their own location (the repository root, the
// worker threads' scripts, the workflows folder) stay what they are when run from source.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BUNDLE_DIR, ENTRIES, MANIFEST, outputOf, ROOT } from './cli-bundle.mjs';

async function buildBundle() {
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

  /**
   * The module graph as Rollup resolved it, before tree-shaking: a module whose code was all
   * inlined or shaken away (a constant Rollup propagated into its importers) has no output file
   * of its own, yet an edit to it changes the program — it must be in the manifest too.
   */
  const graph = new Map();
  const graphPlugin = {
    name: 'custodia-module-graph',
    buildEnd() {
      for (const id of this.getModuleIds()) {
        const info = this.getModuleInfo(id);
        graph.set(id, [...(info?.importedIds ?? []), ...(info?.dynamicallyImportedIds ?? [])]);
      }
    },
  };

  rmSync(outDir, { recursive: true, force: true });
  const result = await build({
    configFile: false,
    root: ROOT,
    logLevel: 'warn',
    publicDir: false,
    plugins: [sourceUrlPlugin, graphPlugin],
    build: {
      ssr: true,
      outDir,
      emptyOutDir: true,
      target: 'node20',
      minify: false,
      sourcemap: true,
      reportCompressedSize: false,
      rollupOptions: {
        input: ENTRIES.map((source) => path.join(ROOT, source)),
        // One output file per source module, where the source is: each command still loads only
        // what it imports (`validate` never loads the Temporal client), as when run from source,
        // and a dynamic import stays a later load (the server starts its dev server first).
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
  const chunks = new Map(outputs.filter((o) => o.type === 'chunk').map((c) => [c.fileName, c]));
  const always = [fileURLToPath(import.meta.url), path.join(ROOT, 'bin/cli-bundle.mjs')];
  const rel = (file) => path.relative(ROOT, file).split(path.sep).join('/');
  const entries = {};
  const inputs = new Set(always);
  for (const source of ENTRIES) {
    const output = outputOf(source);
    if (!chunks.has(output)) throw new Error(`build-bundle: no ${output} in the build output`);
    // Every module of ours the entry can load: its static and dynamic imports, transitively.
    const sources = new Set(always);
    const seen = new Set();
    const todo = [path.join(ROOT, source)];
    if (!graph.has(todo[0])) throw new Error(`build-bundle: ${source} is not in the module graph`);
    while (todo.length) {
      const id = todo.pop();
      if (seen.has(id)) continue;
      seen.add(id);
      const file = id.split('?')[0];
      if (ours(file)) sources.add(file);
      todo.push(...(graph.get(id) ?? []));
    }
    for (const file of sources) inputs.add(file);
    entries[source] = { output, sources: [...sources].map(rel).sort() };
  }

  const files = {};
  for (const file of [...inputs].sort()) {
    const st = statSync(file);
    files[rel(file)] = {
      size: st.size,
      mtimeMs: st.mtimeMs,
      ctimeMs: st.ctimeMs,
      sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
    };
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, MANIFEST), `${JSON.stringify({ entries, files }, null, 1)}\n`);
  console.log(
    `custodia bundle: ${BUNDLE_DIR}/ (${Object.values(entries)
      .map((e) => `${e.output} ${e.sources.length}`)
      .join(', ')} source files) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

try {
  await buildBundle();
} catch (err) {
  if (!process.argv.includes('--optional')) throw err;
  console.warn(
    `custodia: the bundle was not built (${err instanceof Error ? err.message : String(err)}); the CLI and the server run their TypeScript sources`,
  );
}
