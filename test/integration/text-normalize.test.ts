import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isNormalizerName, words } from '../../src/text/normalize.ts';
import { padPre, type TokenizerJson, WordTokenizer } from '../../src/text/tokenizer.ts';

describe('keras-original-v1 normaliser', () => {
  const cases: [string, string, string[]][] = [
    ['lower-cases and splits on spaces', 'The Book was GOOD', ['the', 'book', 'was', 'good']],
    ['deletes punctuation without inserting a space', "great!it's fine.", ['greatits', 'fine']],
    ['keeps digits', 'Lasted 2 days, 10/10', ['lasted', '2', 'days', '1010']],
    [
      'A-z range keeps [\\]^_` then Keras filters split on them',
      'a_b[c]d^e`f\\g',
      ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
    ],
    ['drops non-ASCII letters', 'café naïve 東京 ok', ['caf', 'nave', 'ok']],
    ['drops emoji (astral code points)', 'love it 😍😍 👍', ['love', 'it']],
    ['tab and newline become word breaks', 'one\ttwo\nthree', ['one', 'two', 'three']],
    [
      'other whitespace stays inside tokens, as Keras splits on " " only',
      'a\rb c\u00a0d',
      ['a\rb', 'c\u00a0d'],
    ],
    ['FEFF is not whitespace in Python, so it is deleted', 'a\ufeffb', ['ab']],
    ['Python \\s includes \\x1c-\\x1f', 'a\x1fb', ['a\x1fb']],
    ['Kelvin sign lower-cases to ASCII k', '\u212Aeep', ['keep']],
    ['punctuation only gives no words', '!!! ... ???', []],
    ['empty string gives no words', '', []],
    ['whitespace only gives no words', '  \t \n ', []],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assert.deepEqual(words(input, 'keras-original-v1'), expected));
  }

  test('very long input is linear and complete', () => {
    const text = 'good product '.repeat(50_000);
    const started = performance.now();
    const tokens = words(text, 'keras-original-v1');
    assert.equal(tokens.length, 100_000);
    assert.ok(performance.now() - started < 1000, 'normalising 650k characters took over a second');
  });

  const python = spawnSync('python3', ['--version']).status === 0;
  test('matches the original Python service on tricky and random strings', {
    skip: !python && 'python3 not found',
  }, () => {
    const inputs = [...cases.map(([, input]) => input), ...randomStrings(300, 1234)];
    const script = fileURLToPath(new URL('../reference/keras_original.py', import.meta.url));
    const run = spawnSync('python3', [script], { input: JSON.stringify(inputs), encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const expected = JSON.parse(run.stdout) as string[][];
    inputs.forEach((input, i) => {
      assert.deepEqual(words(input, 'keras-original-v1'), expected[i], `input ${JSON.stringify(input)}`);
    });
  });
});

describe('unicode-words-v1 normaliser', () => {
  const cases: [string, string[]][] = [
    ['great!love it', ['great', 'love', 'it']],
    ["Don't WORK, won’t buy", ['dont', 'work', 'wont', 'buy']],
    ['Café NAÏVE résumé', ['cafe', 'naive', 'resume']],
    ['東京 is nice', ['東京', 'is', 'nice']],
    ['ﬁne ①', ['fine', '1']],
    ['😍👍 !!!', []],
  ];
  for (const [input, expected] of cases) {
    test(JSON.stringify(input), () => assert.deepEqual(words(input, 'unicode-words-v1'), expected));
  }
  test('names are validated', () => {
    assert.ok(isNormalizerName('unicode-words-v1'));
    assert.ok(!isNormalizerName('toString'));
  });
});

describe('WordTokenizer', () => {
  const texts = ['b a c', 'a b', 'a d e', 'e'];

  test('ranks by count, ties in first-appearance order, ids from 1, keeps numWords - 1', () => {
    const tok = WordTokenizer.fit(texts, { normalizer: 'keras-original-v1', numWords: 4 });
    // counts: a3 b2 e2 c1 d1 -> a=1 b=2 e=3 (b before e: first seen earlier)
    assert.deepEqual(tok.vocabulary, ['a', 'b', 'e']);
    assert.deepEqual([...tok.encode('e b a c zzz', 100)], [3, 2, 1]);
  });

  test('with an OOV id unknown and rare words map to 1 and words start at 2', () => {
    const tok = WordTokenizer.fit(texts, { normalizer: 'keras-original-v1', numWords: 4, oov: true });
    assert.deepEqual(tok.vocabulary, ['a', 'b']);
    assert.deepEqual([...tok.encode('a zzz b e', 100)], [2, 1, 3, 1]);
  });

  test('pre-truncates to maxLen, keeping the last ids', () => {
    const tok = WordTokenizer.fit(['one two three four'], { normalizer: 'keras-original-v1', numWords: 10 });
    assert.deepEqual([...tok.encode('one two three four', 2)], [3, 4]);
  });

  test('text with no known words encodes to nothing, never NaN', () => {
    const tok = WordTokenizer.fit(texts, { normalizer: 'keras-original-v1', numWords: 10 });
    assert.deepEqual([...tok.encode('!!! zzz 😍', 10)], []);
  });

  test('round-trips through JSON', () => {
    const tok = WordTokenizer.fit(texts, { normalizer: 'unicode-words-v1', numWords: 10 });
    const back = new WordTokenizer(JSON.parse(JSON.stringify(tok)) as TokenizerJson);
    assert.deepEqual(back.toJSON(), tok.toJSON());
    assert.deepEqual([...back.encode('a b c d e', 10)], [...tok.encode('a b c d e', 10)]);
  });

  test('rejects a malformed tokenizer.json with the reason', () => {
    const good = WordTokenizer.fit(texts, { normalizer: 'keras-original-v1', numWords: 10 }).toJSON();
    const bad: [Partial<TokenizerJson>, RegExp][] = [
      [{ format: 'x' as 'word-tokenizer/1' }, /unknown format/],
      [{ normalizer: 'nope' as 'keras-original-v1' }, /unknown normalizer/],
      [{ numWords: 3 }, /exceed numWords/],
      [{ words: ['a', 'a'] }, /unique/],
      [{ oovIndex: 7 }, /oovIndex/],
    ];
    for (const [patch, message] of bad) {
      assert.throws(() => new WordTokenizer({ ...good, ...patch }), message);
    }
  });
});

test('padPre left-pads and pre-truncates into one row-major array', () => {
  const rows = [Int32Array.from([1, 2]), Int32Array.from([3, 4, 5, 6]), new Int32Array(0)];
  assert.deepEqual([...padPre(rows, 3)], [0, 1, 2, 4, 5, 6, 0, 0, 0]);
});

/** Random strings mixing ASCII, punctuation, Unicode whitespace, accents, CJK and astral characters. */
function randomStrings(count: number, seed: number): string[] {
  const alphabet = [
    ...'abcXYZ019 !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
    '\t',
    '\n',
    '\r',
    '\x0b',
    '\x0c',
    '\x1c',
    '\x1f',
    '\x85',
    '\u00a0',
    '\u2003',
    '\u2028',
    '\u3000',
    '\ufeff',
    'é',
    'ß',
    'İ',
    'Σ',
    'ς',
    '東',
    '\u212A',
    '😍',
    '\u0301',
  ];
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  return Array.from({ length: count }, () =>
    Array.from(
      { length: Math.floor(next() * 40) },
      () => alphabet[Math.floor(next() * alphabet.length)],
    ).join(''),
  );
}
