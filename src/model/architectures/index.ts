/**
 * The registry of model architectures: a name → a factory building a TensorFlow.js layers model from the
 * manifest's settings. Factories, never models built at import time. A new architecture is one file in
 * this folder and one line here.
 */
import type * as tf from '@tensorflow/tfjs';
import { buildLstm } from './lstm.ts';
import type { Architecture } from './settings.ts';

export {
  type Architecture,
  type ArchitectureSettings,
  ORIGINAL_ARCHITECTURE,
  pickArchitecture,
} from './settings.ts';

export const ARCHITECTURES = {
  lstm: buildLstm,
} as const satisfies Record<string, (a: Architecture) => tf.LayersModel>;

export type ArchitectureName = keyof typeof ARCHITECTURES;
export const ARCHITECTURE_NAMES = Object.keys(ARCHITECTURES) as ArchitectureName[];
/** Bundles written before the registry existed name none: they are all `lstm`. */
export const DEFAULT_ARCHITECTURE: ArchitectureName = 'lstm';

export function isArchitectureName(value: unknown): value is ArchitectureName {
  return typeof value === 'string' && Object.hasOwn(ARCHITECTURES, value);
}

export function createModel(a: Architecture, name: ArchitectureName = DEFAULT_ARCHITECTURE): tf.LayersModel {
  return ARCHITECTURES[name](a);
}
