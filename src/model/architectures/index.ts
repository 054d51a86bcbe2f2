/**
 * The registry of model architectures: a name → a factory building a TensorFlow.js layers model from the
 * manifest's settings. Factories, never models built at import time. A new architecture is one file in
 * this folder and one line here.
 */

import { BadRequestError } from '../../errors.ts';
import type * as tf from '../tf.ts';
import { buildBag } from './bag.ts';
import { buildLstm } from './lstm.ts';
import { buildLstmPool } from './lstm-pool.ts';
import type { Architecture } from './settings.ts';

export {
  type Architecture,
  type ArchitectureSettings,
  ORIGINAL_ARCHITECTURE,
  pickArchitecture,
} from './settings.ts';

export const ARCHITECTURES = {
  lstm: buildLstm,
  'lstm-pool': buildLstmPool,
  bag: buildBag,
} as const satisfies Record<string, (a: Architecture) => tf.LayersModel>;

export type ArchitectureName = keyof typeof ARCHITECTURES;
export const ARCHITECTURE_NAMES = Object.keys(ARCHITECTURES) as ArchitectureName[];

export function isArchitectureName(value: unknown): value is ArchitectureName {
  return typeof value === 'string' && Object.hasOwn(ARCHITECTURES, value);
}

export function createModel(a: Architecture): tf.LayersModel {
  if (!isArchitectureName(a.arch)) {
    throw new BadRequestError(
      `unknown architecture ${JSON.stringify(a.arch)}: use ${ARCHITECTURE_NAMES.join(', ')}`,
    );
  }
  return ARCHITECTURES[a.arch](a);
}
