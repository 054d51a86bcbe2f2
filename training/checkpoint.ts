/**
 * Training checkpoints: everything needed to continue a run exactly where the last completed epoch left
 * it (model weights, optimizer state, rng state, history, best weights), in ONE file written to a temp
 * name, fsynced and renamed over the previous one. A kill at any moment therefore leaves either the old
 * or the new checkpoint, never a mix. Layout: magic, u32 header length, JSON header, tensor bytes
 * (tf.io.encodeWeights), with the sha256 of the bytes in the header.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../src/common/atomic-write.ts';
import { sha256Hex } from '../src/common/hash.ts';
import { InternalError } from '../src/errors.ts';
import type { EpochRecord } from './history.ts';
import type { RngState } from './random.ts';

export const CHECKPOINT_FILE = 'checkpoint.bin';
const MAGIC = 'RSCKPT01';
const FORMAT = 'review-sentiment-checkpoint/1';

/** tfjs-core's NamedTensor, which the umbrella package does not export. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** The scalar state of a run after `epoch` completed epochs. */
export interface CheckpointMeta {
  /** What the run was made from (settings, data hashes, model signature); resume must match it. */
  fingerprint: Record<string, string>;
  epoch: number;
  rng: RngState;
  history: EpochRecord[];
  bestEpoch: number;
  /** null until an epoch has a finite validation loss (JSON has no Infinity). */
  bestValLoss: number | null;
  wait: number;
  stopped: boolean;
  backend: string;
  savedAt: string;
}

export interface CheckpointTensors {
  model: tf.Tensor[];
  /** Weights of the best epoch so far; empty before one exists. */
  best: tf.Tensor[];
  optimizer: NamedTensor[];
}

interface Header {
  format: typeof FORMAT;
  meta: CheckpointMeta;
  groups: Record<keyof CheckpointTensors, string[]>;
  specs: tf.io.WeightsManifestEntry[];
  dataSha256: string;
}

export function checkpointPath(dir: string): string {
  return join(dir, CHECKPOINT_FILE);
}

export async function saveCheckpoint(
  dir: string,
  meta: CheckpointMeta,
  tensors: CheckpointTensors,
): Promise<void> {
  const named: NamedTensor[] = [
    ...tensors.model.map((tensor, i) => ({ name: `model/${i}`, tensor })),
    ...tensors.best.map((tensor, i) => ({ name: `best/${i}`, tensor })),
    ...tensors.optimizer.map(({ name, tensor }, i) => ({ name: `optimizer/${i}/${name}`, tensor })),
  ];
  const { data, specs } = await tf.io.encodeWeights(named);
  const bytes = new Uint8Array(data);
  const groups = { model: [] as string[], best: [] as string[], optimizer: [] as string[] };
  for (const { name } of named)
    groups[name.slice(0, name.indexOf('/')) as keyof CheckpointTensors].push(name);
  const header: Header = { format: FORMAT, meta, groups, specs, dataSha256: sha256Hex(bytes) };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, headerBytes.byteLength, true);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(checkpointPath(dir), [new TextEncoder().encode(MAGIC), length, headerBytes, bytes]);
}

/** The last checkpoint in `dir`, or null when there is none. The caller owns (and disposes) the tensors. */
export async function loadCheckpoint(
  dir: string,
): Promise<{ meta: CheckpointMeta; tensors: CheckpointTensors } | null> {
  const path = checkpointPath(dir);
  let file: Buffer;
  try {
    file = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const header = parseHeader(file, path);
  const data = file.subarray(12 + header.headerLength);
  if (sha256Hex(data) !== header.dataSha256) throw new InternalError(`${path}: tensor data fails its sha256`);
  const copy = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  const map = tf.io.decodeWeights(copy, header.specs);
  const pick = (names: string[]) =>
    names.map((name) => {
      const tensor = map[name];
      if (!tensor) throw new InternalError(`${path}: tensor ${name} is missing`);
      return { name: name.replace(/^optimizer\/\d+\//, ''), tensor };
    });
  try {
    return {
      meta: header.meta,
      tensors: {
        model: pick(header.groups.model).map((t) => t.tensor),
        best: pick(header.groups.best).map((t) => t.tensor),
        optimizer: pick(header.groups.optimizer),
      },
    };
  } catch (error) {
    tf.dispose(Object.values(map));
    throw error;
  }
}

function parseHeader(file: Buffer, path: string): Header & { headerLength: number } {
  if (file.byteLength < 12 || file.subarray(0, 8).toString('latin1') !== MAGIC) {
    throw new InternalError(`${path}: not a training checkpoint (bad magic)`);
  }
  const headerLength = file.readUInt32LE(8);
  if (12 + headerLength > file.byteLength) throw new InternalError(`${path}: truncated header`);
  let header: Header;
  try {
    header = JSON.parse(file.subarray(12, 12 + headerLength).toString('utf8')) as Header;
  } catch {
    throw new InternalError(`${path}: header is not valid JSON`);
  }
  if (header?.format !== FORMAT) {
    throw new InternalError(`${path}: format ${JSON.stringify(header?.format)}, expected ${FORMAT}`);
  }
  return { ...header, headerLength };
}

interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

/**
 * Adam's state (the caller disposes the tensors): getWeights() (iterations + moments) plus its running beta powers. setWeights() recomputes
 * those as beta**(t+1), which differs in the last float32 bits from the running product an uninterrupted
 * run uses, so they are saved and put back as they were to make a resumed run identical.
 */
export async function captureOptimizer(optimizer: tf.Optimizer): Promise<NamedTensor[]> {
  const { accBeta1, accBeta2 } = adamInternals(optimizer);
  const weights = await optimizer.getWeights();
  // getWeights returns the live moment variables next to a fresh iterations scalar; clone the variables
  // so that every tensor returned is the caller's to dispose.
  return [
    ...weights.map(({ name, tensor }) => ({
      name,
      tensor: tensor instanceof tf.Variable ? tf.clone(tensor) : tensor,
    })),
    { name: 'accBeta1', tensor: tf.clone(accBeta1) },
    { name: 'accBeta2', tensor: tf.clone(accBeta2) },
  ];
}

export async function restoreOptimizer(optimizer: tf.Optimizer, saved: NamedTensor[]): Promise<void> {
  const internals = adamInternals(optimizer);
  const beta = (name: string) => saved.find((t) => t.name === name)?.tensor;
  const accBeta1 = beta('accBeta1');
  const accBeta2 = beta('accBeta2');
  if (!accBeta1 || !accBeta2)
    throw new InternalError('checkpoint optimizer state lacks the Adam beta powers');
  await optimizer.setWeights(saved.filter((t) => t.name !== 'accBeta1' && t.name !== 'accBeta2'));
  internals.accBeta1.assign(accBeta1);
  internals.accBeta2.assign(accBeta2);
}

function adamInternals(optimizer: tf.Optimizer): AdamInternals {
  const internals = optimizer as unknown as Partial<AdamInternals>;
  if (!(internals.accBeta1 instanceof tf.Variable) || !(internals.accBeta2 instanceof tf.Variable)) {
    throw new InternalError(`checkpoints support the Adam optimizer only, got ${optimizer.getClassName()}`);
  }
  return { accBeta1: internals.accBeta1, accBeta2: internals.accBeta2 };
}
