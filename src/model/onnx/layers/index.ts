/**
 * One converter per tfjs layer class: each turns a layer into ONNX nodes on the value flowing through the
 * chain. Adding a layer kind (Conv1D, ...) is one entry here plus its function; the walker in ../export.ts
 * never changes. Every architecture in ../../architectures/ exports: lstm (Embedding → [Bi]LSTM → Dense),
 * lstm-pool (… LSTM returning sequences → MaskedPooling → Dense), bag (NgramIds → Embedding →
 * MaskedPooling → Dense).
 */
import type { LayerConverter } from './common.ts';
import { dense } from './dense.ts';
import { embedding } from './embedding.ts';
import { ngramIds } from './ngrams.ts';
import { maskedPooling } from './pooling.ts';
import { bidirectional, lstm } from './recurrent.ts';

export { type ConvertContext, type LayerConverter, OnnxExportError } from './common.ts';

/** Layers that compute nothing at inference (Dropout is the identity once training is over). */
const passThrough: LayerConverter = (_layer, input) => input;

export const CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  Dropout: passThrough,
  Embedding: embedding,
  LSTM: lstm,
  Bidirectional: bidirectional,
  Dense: dense,
  NgramIds: ngramIds,
  MaskedPooling: maskedPooling,
};
