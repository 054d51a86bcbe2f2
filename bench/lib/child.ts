/**
 * Child processes for benchmarks: spawn one and time how long it takes to print a line (a server's
 * "listening" line) or to exit. Times count from just before spawn(), so they include process start.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface ChildOptions {
  cwd?: string;
  /** Added to process.env. */
  env?: Record<string, string>;
  /** Names left out of the inherited process.env (before `env` is added). */
  unset?: readonly string[];
}

export type StreamName = 'stdout' | 'stderr';

export interface Child {
  process: ChildProcess;
  /** performance.now() just before spawn. */
  startedAt: number;
  /** Output so far: the last OUTPUT_LIMIT characters of complete lines, plus any unfinished line. */
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves at the first complete output line matching `pattern`, with the match and ms since spawn. */
  waitForLine(
    pattern: RegExp,
    options?: { stream?: StreamName; timeoutMs?: number },
  ): Promise<{ match: RegExpExecArray; ms: number }>;
  /** Sends `signal` (default SIGTERM) and waits for the exit; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/** Older lines are dropped: a server logging every request must not grow the benchmark's memory. */
const OUTPUT_LIMIT = 1 << 20;

/** Splits a stream into lines as they complete, keeps a bounded tail and tells listeners of each line. */
class LineLog {
  readonly lines: string[] = [];
  readonly listeners = new Set<(line: string) => void>();
  partial = '';
  #chars = 0;

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      this.lines.push(line);
      this.#chars += line.length + 1;
      for (const listener of this.listeners) listener(line);
    }
    while (this.#chars > OUTPUT_LIMIT && this.lines.length > 1)
      this.#chars -= (this.lines.shift()?.length ?? 0) + 1;
  }

  text(): string {
    return this.lines.map((line) => `${line}\n`).join('') + this.partial;
  }
}

function inheritedEnv(unset: readonly string[]): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of unset) delete env[name];
  return env;
}

export function startChild(command: string, args: readonly string[], options: ChildOptions = {}): Child {
  const startedAt = performance.now();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...inheritedEnv(options.unset ?? []), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = { stdout: new LineLog(), stderr: new LineLog() };
  for (const name of ['stdout', 'stderr'] as const) {
    child[name]?.setEncoding('utf8');
    child[name]?.on('data', (chunk: string) => logs[name].push(chunk));
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const describe = `${command} ${args.join(' ')}`;

  const waitForLine: Child['waitForLine'] = (pattern, { stream = 'stdout', timeoutMs = 30_000 } = {}) =>
    new Promise((resolve, reject) => {
      const log = logs[stream];
      const check = (line: string) => {
        const match = pattern.exec(line);
        if (match) finish(() => resolve({ match, ms: performance.now() - startedAt }));
      };
      const finish = (settle: () => void) => {
        log.listeners.delete(check);
        clearTimeout(timer);
        settle();
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${describe}: no line matching ${pattern} in ${timeoutMs} ms`))),
        timeoutMs,
      );
      log.listeners.add(check);
      for (const line of log.lines) check(line);
      exited.then(
        ({ code, signal }) => {
          const why = `exited (${signal ?? `code ${code}`}) before printing a line matching ${pattern}`;
          finish(() => reject(new Error(`${describe}: ${why}; stderr: ${logs.stderr.text().slice(-2000)}`)));
        },
        (error: unknown) => finish(() => reject(error)),
      );
    });

  const stop: Child['stop'] = async (signal = 'SIGTERM', graceMs = 5000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited.catch(() => undefined);
    clearTimeout(kill);
  };

  return {
    process: child,
    startedAt,
    stdout: () => logs.stdout.text(),
    stderr: () => logs.stderr.text(),
    exited,
    waitForLine,
    stop,
  };
}

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From just before spawn to exit. */
  ms: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; a non-zero exit is reported in `code`, not thrown. */
export async function runChild(
  command: string,
  args: readonly string[],
  options: ChildOptions = {},
): Promise<ChildRun> {
  const child = startChild(command, args, options);
  const { code, signal } = await child.exited;
  return {
    code,
    signal,
    ms: performance.now() - child.startedAt,
    stdout: child.stdout(),
    stderr: child.stderr(),
  };
}
