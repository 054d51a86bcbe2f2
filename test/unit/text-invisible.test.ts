import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isBlank } from '../../src/text/invisible.ts';

describe('isBlank: no character a reader could see', () => {
  test('spaces, controls and zero-width characters are invisible, alone and mixed', () => {
    const invisible = [
      '',
      ' \t\n\r\v\f',
      '\u0000\u0001\u001f\u007f\u0085\u009f', // C0, DEL, C1 controls
      '\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000', // Unicode spaces, NBSP first
      '\u200b\u200c\u200d\u2060\ufeff', // zero-width space, non-joiner, joiner, word joiner, BOM
      '\u00ad\u180e\u200e\u200f\u202a\u2066\ufe0f\u3164', // soft hyphen, bidi marks, variation selector, filler
      '\u{e0041}', // a tag character
    ];
    for (const text of invisible) assert.equal(isBlank(text), true, JSON.stringify(text));
    assert.equal(isBlank(invisible.join('')), true);
  });

  test('anything visible, and broken text (lone surrogates), is not blank', () => {
    for (const text of ['a', '\u200ba\u200b', '.', '👍', '\u0600', '\ud800', '\udc00 ', '\u2800x']) {
      assert.equal(isBlank(text), false, JSON.stringify(text));
    }
  });

  test('linear time: a million zero-width spaces then a letter in well under a second', () => {
    const text = `${'\u200b'.repeat(1_000_000)}x`;
    const started = performance.now();
    assert.equal(isBlank(text), false);
    assert.ok(performance.now() - started < 500);
  });
});
