/**
 * A child process kept running: when it exits without being asked to, it is started again after
 * 1 s, 2 s, 4 s … (at most 30 s; back to 1 s once it has stayed up a minute), one log line per
 * restart — what a process manager (systemd `Restart=always`, Kubernetes) does in production.
 * Its output goes, line by line, to a log file and to `onLine`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SupervisedOptions {
  /** Short name used in log lines (`worker-1`, `temporal`). */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Every line the process prints goes here (appended across restarts). */
  logFile: string;
  /** Each output line. */
  onLine?: (line: string) => void;
  /** Supervisor notices (restarts). */
  notice: (line: string) => void;
  /** Resolves once the (re)started process serves; rejects to count a failed start. Default: at once. */
  ready?: (child: ChildProcess, output: () => string) => Promise<void>;
  /** Called after each start that became ready (e.g. to record the pid). */
  onStart?: (pid: number) => void;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface Supervised {
  readonly name: string;
  /** pid of the running process (undefined while restarting). */
  pid(): number | undefined;
  /** Restarts so far. */
  restarts(): number;
  /** Stop supervising; SIGTERM, then SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

const STABLE_MS = 60_000;

/** Start the process, wait until it is ready, then keep it running until `stop()`. */
export async function supervise(opts: SupervisedOptions): Promise<Supervised> {
  mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const file: WriteStream = createWriteStream(opts.logFile, { flags: 'a' });
  let current: ChildProcess | undefined;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({
    code: null,
    signal: null,
  });
  let stopping = false;
  let restarts = 0;
  const wake = new AbortController();
  const killOnExit = (): void => {
    current?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const startOnce = async (): Promise<void> => {
    const child = spawn(opts.command, opts.args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: Ctrl-C in the terminal reaches the supervisor only, which stops
      // the processes in order instead of seeing them all die and restarting them.
      detached: true,
    });
    let output = '';
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        file.write(text);
        output = (output + text).slice(-20_000);
        const lines = (pending + text).split('\n');
        pending = lines.pop() ?? '';
        for (const l of lines) if (l.trim()) opts.onLine?.(l);
      });
    }
    exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: null, signal: null }));
    });
    current = child;
    const early = exited.then(({ code, signal }) => {
      throw new Error(
        `${opts.name} exited while starting (code ${String(code)}, signal ${String(signal)}):\n${output.slice(-3000)}`,
      );
    });
    try {
      await Promise.race([opts.ready?.(child, () => output) ?? Promise.resolve(), early]);
    } catch (err) {
      child.kill('SIGKILL');
      await exited;
      current = undefined;
      throw err;
    }
    early.catch(() => {});
    opts.onStart?.(child.pid!);
  };

  await startOnce();

  const loop = async (): Promise<void> => {
    let failures = 0;
    while (!stopping) {
      const upSince = Date.now();
      const { code, signal } = await exited;
      current = undefined;
      if (stopping) return;
      if (Date.now() - upSince >= STABLE_MS) failures = 0;
      for (;;) {
        const delay = Math.min(opts.maxDelayMs ?? 30_000, (opts.baseDelayMs ?? 1_000) * 2 ** failures++);
        opts.notice(
          `${opts.name} exited (code ${String(code)}, signal ${String(signal)}); restarting it in ${delay / 1000} s (restart ${restarts + 1})`,
        );
        try {
          await sleep(delay, undefined, { signal: wake.signal });
        } catch {
          return;
        }
        if (stopping) return;
        try {
          await startOnce();
          restarts++;
          break;
        } catch (err) {
          if (stopping) return;
          opts.notice(`${opts.name} did not start: ${(err as Error).message.split('\n')[0]}`);
        }
      }
    }
  };
  const supervising = loop();

  return {
    name: opts.name,
    pid: () => current?.pid,
    restarts: () => restarts,
    async stop(timeoutMs = 15_000) {
      stopping = true;
      wake.abort();
      const child = current;
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      await supervising;
      process.removeListener('exit', killOnExit);
      await new Promise<void>((r) => file.end(() => r()));
    },
  };
}
