import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { selectBackend } from '../../src/model/backend.ts';
import { buildScorer } from '../../src/model/build.ts';
import type { Scorer } from '../../src/model/scorer.ts';
import { scorerScoreBatch } from '../../src/ranking/score-batch.ts';
import { reviewText } from '../../src/text/review.ts';
import { makeTinyBundle, TINY_TEXTS } from '../helpers/tiny-bundle.ts';

const scorers: Scorer[] = [];

async function tinyScorer(labels?: string[]): Promise<Scorer> {
  const { files, manifest } = await makeTinyBundle(labels ? { labels } : {});
  const scorer = await buildScorer({ files, manifest, uri: 'memory' });
  scorers.push(scorer);
  return scorer;
}

// ONNX Runtime sessions still open when the process exits can crash its teardown: close them first.
after(async () => {
  for (const scorer of scorers) await scorer.dispose();
});

before(async () => {
  await selectBackend('cpu');
});

describe('scorerScoreBatch', () => {
  test('the expected rating of reviewText({title, text}), as the API scores the joined string', async () => {
    const scorer = await tinyScorer();
    const scoreBatch = scorerScoreBatch(scorer);
    const reviews = TINY_TEXTS.map((text, i) => ({ text, title: i % 2 ? 'Very nice' : null }));
    const scores = await scoreBatch(reviews);
    const predictions = await scorer.predict(reviews.map(reviewText));
    assert.equal(scores.length, reviews.length);
    scores.forEach((score, i) => {
      assert.ok(Math.abs(score - (predictions[i]?.score ?? Number.NaN)) < 5e-4, `review ${i}`);
      assert.ok(score >= 1 && score <= 5);
    });
    // Order and batch composition do not change a review's score beyond float noise.
    const reversed = await scoreBatch([...reviews].reverse());
    reversed.reverse().forEach((score, i) => {
      assert.ok(Math.abs(score - (scores[i] ?? 0)) < 1e-6);
    });
    assert.deepEqual(await scoreBatch([]), []);
  });

  test('a bundle without ordinal labels has no expected rating to rank by', async () => {
    const scorer = await tinyScorer(['anger', 'joy']);
    assert.throws(() => scorerScoreBatch(scorer), /non-ordinal labels/);
  });
});
