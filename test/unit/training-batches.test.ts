import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Batch, MIN_TRAIN_STEPS, makeBatches, paddingEfficiency } from '../../training/batches.ts';
import { Rng } from '../../training/random.ts';

/** Review-like lengths: log-normal around ~40 words with a long tail, some empty, capped later by maxLen. */
function reviewLikeSequences(n: number, seed: number): { sequences: Int32Array[]; labels: Int32Array } {
  const rng = new Rng(seed);
  const sequences = Array.from({ length: n }, () => {
    const gaussian = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    const length = rng.int(50) === 0 ? 0 : Math.round(Math.exp(3.7 + 0.8 * gaussian));
    return Int32Array.from({ length }, () => 1 + rng.int(1999));
  });
  return { sequences, labels: Int32Array.from({ length: n }, () => rng.int(5)) };
}

/** Reference sfc32 step on BigInt, written independently of the Number implementation. */
function referenceSfc32(state: readonly number[], count: number): number[] {
  const mask = 0xffffffffn;
  let [a, b, c, d] = state.map(BigInt) as [bigint, bigint, bigint, bigint];
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = (a + b + d) & mask;
    d = (d + 1n) & mask;
    a = b ^ (b >> 9n);
    b = (c + (c << 3n)) & mask;
    c = (((c << 21n) | (c >> 11n)) + t) & mask;
    out.push(Number(t));
  }
  return out;
}

describe('Rng', () => {
  test('the same seed gives the same sequence, other seeds another', () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 50 }, () => rng.uint32());
    };
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
    assert.notDeepEqual(draw(1), draw(2 ** 32 + 1), 'high bits of the seed matter');
  });

  test('matches a BigInt reference implementation of sfc32 from any state', () => {
    const rng = new Rng(2024);
    const start = rng.state();
    assert.deepEqual(
      Array.from({ length: 1000 }, () => rng.uint32()),
      referenceSfc32(start, 1000),
    );
  });

  test('state() / fromState() continues the exact sequence', () => {
    const rng = new Rng(9);
    for (let i = 0; i < 17; i++) rng.next();
    const copy = Rng.fromState(JSON.parse(JSON.stringify(rng.state())));
    assert.deepEqual(
      Array.from({ length: 20 }, () => copy.next()),
      Array.from({ length: 20 }, () => rng.next()),
    );
  });

  test('fromState and the constructor reject bad input by name', () => {
    assert.throws(() => Rng.fromState([1, 2, 3]), /4 unsigned 32-bit integers/);
    assert.throws(() => Rng.fromState([1, 2, 3, -1]), /4 unsigned 32-bit integers/);
    assert.throws(() => new Rng(0.5), /seed must be a safe integer/);
  });

  test('int(n) stays in range and is roughly uniform; next() is in [0, 1)', () => {
    const rng = new Rng(3);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]++;
    for (const count of counts) assert.ok(Math.abs(count - 10_000) < 500, `count ${count} far from 10000`);
    for (let i = 0; i < 1000; i++) {
      const x = rng.next();
      assert.ok(x >= 0 && x < 1);
    }
    assert.throws(() => rng.int(0), RangeError);
  });

  test('shuffle is a permutation and depends on the state', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const a = new Rng(1).shuffle([...items]);
    assert.deepEqual(
      [...a].sort((x, y) => x - y),
      items,
    );
    assert.notDeepEqual(a, items);
    assert.deepEqual(new Rng(1).shuffle([...items]), a);
    assert.notDeepEqual(new Rng(2).shuffle([...items]), a);
  });
});

describe('makeBatches', () => {
  const { sequences, labels } = reviewLikeSequences(5000, 11);
  const maxLen = 250;
  const batchesOf = (mode: 'bucketed' | 'padded', seed: number, batchSize = 64) =>
    makeBatches(sequences, labels, { batchSize, mode, maxLen, rng: new Rng(seed) });

  function assertEveryRowOnce(batches: Batch[]): void {
    const rows = batches.flatMap((b) => b.rows).sort((a, b) => a - b);
    assert.deepEqual(
      rows,
      sequences.map((_, i) => i),
    );
  }

  /** Rebuilds one row from a batch the way the model sees it: strip the left padding. */
  function rowOf(batch: Batch, j: number): Int32Array {
    const row = batch.x.subarray(j * batch.length, (j + 1) * batch.length);
    const first = row.findIndex((id) => id !== 0);
    return first < 0 ? new Int32Array(0) : row.subarray(first);
  }

  for (const mode of ['bucketed', 'padded'] as const) {
    test(`${mode}: every row exactly once, x and y match the input rows`, () => {
      const batches = batchesOf(mode, 1);
      assertEveryRowOnce(batches);
      for (const batch of batches) {
        assert.ok(batch.rows.length <= 64);
        assert.equal(batch.x.length, batch.rows.length * batch.length);
        batch.rows.forEach((row, j) => {
          const seq = sequences[row] ?? new Int32Array(0);
          assert.deepEqual(rowOf(batch, j), seq.subarray(Math.max(0, seq.length - maxLen)));
          assert.equal(batch.y[j], labels[row]);
        });
      }
      assert.equal(batches.filter((b) => b.rows.length < 64).length, 1, 'only the last batch is short');
    });
  }

  test('bucketed: each batch is padded to its own longest row (capped at maxLen, at least MIN_TRAIN_STEPS)', () => {
    for (const batch of batchesOf('bucketed', 2)) {
      const longest = Math.max(...batch.rows.map((row) => sequences[row]?.length ?? 0));
      assert.equal(batch.length, Math.max(MIN_TRAIN_STEPS, Math.min(maxLen, longest)));
    }
  });

  test('padded: every batch has maxLen steps', () => {
    for (const batch of batchesOf('padded', 2)) assert.equal(batch.length, maxLen);
  });

  test('empty and one-token sequences get MIN_TRAIN_STEPS steps, all padding but the token', () => {
    const short = [new Int32Array(0), Int32Array.of(7)];
    for (const mode of ['bucketed', 'padded'] as const) {
      const batches = makeBatches(short, [0, 1], { batchSize: 8, mode, maxLen: 1, rng: new Rng(1) });
      assert.equal(batches.length, 1);
      assert.equal(batches[0]?.length, MIN_TRAIN_STEPS);
      assert.equal(batches[0]?.x.filter((id) => id !== 0).join(), '7');
    }
  });

  test('deterministic by seed; another seed gives another order', () => {
    for (const mode of ['bucketed', 'padded'] as const) {
      assert.deepEqual(batchesOf(mode, 5), batchesOf(mode, 5));
      assert.notDeepEqual(
        batchesOf(mode, 5).map((b) => b.rows),
        batchesOf(mode, 6).map((b) => b.rows),
      );
    }
  });

  test('bucketed keeps randomness: consecutive epochs group rows differently', () => {
    const rng = new Rng(8);
    const options = { batchSize: 64, mode: 'bucketed' as const, maxLen, rng };
    const first = makeBatches(sequences, labels, options);
    const second = makeBatches(sequences, labels, options);
    const together = (batches: Batch[]) =>
      new Set(batches.map((b) => [...b.rows].sort((x, y) => x - y).join()));
    const same = [...together(first)].filter((key) => together(second).has(key)).length;
    assert.ok(same < first.length / 10, `${same} of ${first.length} batches identical across epochs`);
  });

  test('padding efficiency is far better bucketed on a review-like length distribution', () => {
    const bucketed = paddingEfficiency(batchesOf('bucketed', 3));
    const padded = paddingEfficiency(batchesOf('padded', 3));
    const tokens = sequences.reduce((sum, s) => sum + Math.min(maxLen, s.length), 0);
    assert.ok(Math.abs(padded - tokens / (sequences.length * maxLen)) < 1e-12);
    assert.ok(bucketed > 0.9, `bucketed efficiency ${bucketed}`);
    assert.ok(bucketed > 3 * padded, `bucketed ${bucketed} vs padded ${padded}`);
  });

  test('bad options and mismatched labels are named', () => {
    const rng = new Rng(1);
    assert.throws(
      () => makeBatches(sequences, labels, { batchSize: 0, mode: 'padded', maxLen, rng }),
      /batchSize/,
    );
    assert.throws(
      () => makeBatches(sequences, labels, { batchSize: 8, mode: 'padded', maxLen: 0, rng }),
      /maxLen/,
    );
    assert.throws(
      () => makeBatches(sequences, [1, 2], { batchSize: 8, mode: 'padded', maxLen, rng }),
      /labels/,
    );
  });
});
