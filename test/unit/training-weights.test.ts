import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classWeights, labelCounts } from '../../training/pipeline.ts';

test('class weights follow scikit-learn balanced (n / (k · count)) and its square root', () => {
  const counts = labelCounts(Int32Array.from([0, 0, 1, 2]), 4);
  assert.deepEqual(counts, [2, 1, 1, 0]);
  // n = 4 rows, k = 4 classes; an absent class gets weight 0 rather than Infinity.
  assert.deepEqual(classWeights(counts, 'balanced'), [0.5, 1, 1, 0]);
  assert.deepEqual(classWeights(counts, 'sqrt'), [Math.sqrt(0.5), 1, 1, 0]);
  assert.equal(classWeights(counts, 'none'), null);
});
