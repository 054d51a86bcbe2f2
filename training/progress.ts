/**
 * Training progress on stderr. On a terminal one bar is redrawn in place (at most ~10x/s, so printing
 * never costs training time); in CI logs, where `\r` would pile up as one huge line, a plain line is
 * written at every 10% of the epoch or every 30 s. Each epoch ends with a summary line.
 */
import { formatDuration } from '../src/common/duration.ts';
import type { EpochRecord } from './history.ts';

export interface BatchProgress {
  epoch: number;
  epochs: number;
  /** Training samples done in this epoch, of `samples`. */
  samplesDone: number;
  samples: number;
  /** Running means over this epoch so far. */
  loss: number;
  accuracy: number;
  samplesPerSec: number;
}

export interface EpochEnd {
  epochs: number;
  record: EpochRecord;
  /** This epoch has the lowest validation loss so far (its weights are the ones kept). */
  best: boolean;
  /** Epochs since the best one, and how many are allowed before stopping. */
  wait: number;
  patience: number;
}

/** Receives training events; the terminal renderer below is one, tests capture them with another. */
export interface ProgressSink {
  batch(progress: BatchProgress): void;
  epochEnd(end: EpochEnd): void;
  /** One-off events: resumed from a checkpoint, stopped early, best weights restored. */
  note(message: string): void;
}

export interface ProgressBarOptions {
  stream?: { write(chunk: string): unknown; isTTY?: boolean };
  /** Defaults to the stream's own isTTY. */
  isTTY?: boolean;
  /** Milliseconds clock, injectable for tests. */
  now?: () => number;
}

const TTY_REDRAW_MS = 100;
const LOG_INTERVAL_MS = 30_000;
const BAR_WIDTH = 20;

export function createProgress(options: ProgressBarOptions = {}): ProgressSink {
  const stream = options.stream ?? process.stderr;
  const tty = options.isTTY ?? stream.isTTY === true;
  const now = options.now ?? (() => performance.now());
  let epoch = -1;
  let lastWrite = now();
  let lastDecile = 0;
  let barOnScreen = false;
  const endLine = (line: string) => {
    stream.write(`${barOnScreen ? '\n' : ''}${line}\n`);
    barOnScreen = false;
    lastWrite = now();
  };
  return {
    batch(p) {
      const t = now();
      if (p.epoch !== epoch) {
        epoch = p.epoch;
        lastDecile = 0;
        if (tty) lastWrite = Number.NEGATIVE_INFINITY;
      }
      const finished = p.samplesDone >= p.samples;
      if (tty) {
        if (!finished && t - lastWrite < TTY_REDRAW_MS) return;
        stream.write(`\r${formatBatch(p)}\x1b[K`);
        barOnScreen = true;
      } else {
        const decile = Math.floor((10 * p.samplesDone) / p.samples);
        if (decile <= lastDecile && t - lastWrite < LOG_INTERVAL_MS) return;
        stream.write(`${formatBatch(p)}\n`);
        lastDecile = decile;
      }
      lastWrite = t;
    },
    epochEnd(end) {
      endLine(formatEpochEnd(end));
    },
    note(message) {
      endLine(message);
    },
  };
}

/** `epoch 2/10 [#######.............] 61% 21504/35200 loss 0.912 acc 0.612 812 samples/s ETA 0:17` */
export function formatBatch(p: BatchProgress): string {
  const fraction = p.samples > 0 ? Math.min(1, p.samplesDone / p.samples) : 1;
  const filled = Math.floor(fraction * BAR_WIDTH);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}`;
  const eta = p.samplesPerSec > 0 ? (p.samples - p.samplesDone) / p.samplesPerSec : Number.NaN;
  return (
    `epoch ${p.epoch}/${p.epochs} [${bar}] ${Math.floor(fraction * 100)}% ${p.samplesDone}/${p.samples} ` +
    `loss ${p.loss.toFixed(3)} acc ${p.accuracy.toFixed(3)} ${Math.round(p.samplesPerSec)} samples/s ` +
    `ETA ${formatDuration(eta)}`
  );
}

/** `epoch 2/10 done in 0:43 loss 0.912 acc 0.612 val_loss 0.950 val_acc 0.598 812 samples/s (best)` */
export function formatEpochEnd(end: EpochEnd): string {
  const r = end.record;
  const verdict = end.best ? 'best so far' : `no improvement for ${end.wait} (patience ${end.patience})`;
  return (
    `epoch ${r.epoch}/${end.epochs} done in ${formatDuration(r.seconds)} loss ${r.loss.toFixed(3)} ` +
    `acc ${r.accuracy.toFixed(3)} val_loss ${r.valLoss.toFixed(3)} val_acc ${r.valAccuracy.toFixed(3)} ` +
    `${Math.round(r.samplesPerSec)} samples/s (${verdict})`
  );
}
