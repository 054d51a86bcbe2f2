/**
 * Ctrl-C for a training run: the first SIGINT or SIGTERM aborts the run's AbortController, so training
 * stops cleanly at the next batch with the last epoch's checkpoint intact; a second one exits at once.
 * Exit codes follow the shell convention 128 + signal number: 130 for SIGINT, 143 for SIGTERM.
 */
import { existsSync } from 'node:fs';
import { checkpointPath } from './checkpoint.ts';

export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof SIGNAL_EXIT_CODES;

export interface Interrupts {
  signal: AbortSignal;
  /** The signal that aborted the run, if one did. */
  received(): StopSignal | undefined;
  /** Removes the handlers (after the run, so a late Ctrl-C behaves as usual). */
  dispose(): void;
}

/** Signal source: `process`, or an EventEmitter in tests (emitting on process would reach the runner). */
type SignalSource = Pick<NodeJS.EventEmitter, 'on' | 'off'>;

export function handleInterrupts(
  write: (message: string) => void,
  exit: (code: number) => void = (code) => process.exit(code),
  source: SignalSource = process,
): Interrupts {
  const controller = new AbortController();
  let first: StopSignal | undefined;
  const onSignal = (name: StopSignal) => {
    if (first !== undefined) {
      write(`train: ${name} again: exiting now\n`);
      exit(SIGNAL_EXIT_CODES[name]);
      return;
    }
    first = name;
    write(
      `\ntrain: ${name}: stopping after the current batch (${name === 'SIGINT' ? 'Ctrl-C' : name} again to exit now)\n`,
    );
    controller.abort(new DOMException(`received ${name}`, 'AbortError'));
  };
  const handlers = (Object.keys(SIGNAL_EXIT_CODES) as StopSignal[]).map(
    (name) => [name, () => onSignal(name)] as const,
  );
  for (const [name, handler] of handlers) source.on(name, handler);
  return {
    signal: controller.signal,
    received: () => first,
    dispose: () => {
      for (const [name, handler] of handlers) source.off(name, handler);
    },
  };
}

/** What to tell the user after an interrupted run: where the checkpoint is and the command that resumes. */
export function resumeAdvice(checkpointDir: string, argv: readonly string[]): string {
  const checkpoint = checkpointPath(checkpointDir);
  if (!existsSync(checkpoint)) {
    return `train: stopped before the first epoch completed; no checkpoint was written. Run the same command again.\n`;
  }
  const args = argv.includes('--resume') ? argv : [...argv, '--resume'];
  return (
    `train: stopped; the last completed epoch is checkpointed in ${checkpoint}\n` +
    `train: resume with: npm run train -- ${args.map(shellQuote).join(' ')}\n`
  );
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
