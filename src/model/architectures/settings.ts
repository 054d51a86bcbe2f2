import type { PoolingMode } from './layers.ts';

/** The settings every architecture is built from; the manifest's `architecture` record holds them. */
export interface Architecture {
  /** The registry name (architectures/index.ts); bundles from before the registry are `lstm`. */
  arch: string;
  numWords: number;
  numClasses: number;
  embeddingDim: number;
  /** Recurrent units per direction (recurrent architectures). */
  lstmUnits: number;
  bidirectional: boolean;
  /** Hashed word-pair buckets (the `bag` architecture); 0 reads single words only. */
  buckets: number;
  /**
   * How the `bag` architecture pools its embeddings (MaskedPooling's mode): `mean`, the original, or
   * `sqrtn`, whose scale grows with a text's length, or `attention`, a learned softmax weighting of the
   * tokens. Bundles from before the setting pooled by mean.
   */
  pooling: PoolingMode;
  /** Dropout on the embeddings (per step) and on the pooled or recurrent output; 0 disables. */
  dropout: number;
  maskZero: boolean;
  seed: number;
}

/** The settings training chooses (numClasses comes from the data, seed from the run). */
export type ArchitectureSettings = Omit<Architecture, 'numClasses' | 'seed'>;

/** The original design: 2000 words, embedding 128, LSTM 100, softmax over the classes. */
export const ORIGINAL_ARCHITECTURE: ArchitectureSettings = {
  arch: 'lstm',
  numWords: 2000,
  embeddingDim: 128,
  lstmUnits: 100,
  bidirectional: false,
  buckets: 0,
  pooling: 'mean',
  dropout: 0.2,
  maskZero: true,
};

/** The architecture fields of a larger record (e.g. the training config), keyed as ORIGINAL_ARCHITECTURE. */
export function pickArchitecture(source: ArchitectureSettings): ArchitectureSettings {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(ORIGINAL_ARCHITECTURE))
    picked[key] = source[key as keyof ArchitectureSettings];
  return picked as unknown as ArchitectureSettings;
}

/** Seeded initialisers: the same seed gives the same initial weights, layer by layer. */
export function seeded(a: Pick<Architecture, 'seed'>, offset: number): { seed: number } {
  return { seed: a.seed + offset };
}
