/** What a training run records per epoch and returns: shared by the loop, checkpoints, progress and the report. */

export interface EpochRecord {
  epoch: number;
  /** Mean training loss and accuracy over the epoch (dropout on, class-weighted loss). */
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  /** Training samples per second of the training phase alone. */
  samplesPerSec: number;
  /** Wall time of the epoch: training and validation (the checkpoint written after it is not counted). */
  seconds: number;
}

export interface FitResult {
  history: EpochRecord[];
  /** Epoch whose weights the model now holds (lowest validation loss); 0 if none was finite. */
  bestEpoch: number;
  stoppedEarly: boolean;
  /** Completed epochs found in the checkpoint, or null when the run started fresh. */
  resumedFrom: number | null;
}
