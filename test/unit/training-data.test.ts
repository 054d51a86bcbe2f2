import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BadRequestError, NotFoundError } from '../../src/errors.ts';
import { type Review, reviewText } from '../../src/text/review.ts';
import {
  AMAZON_CSV,
  type CsvOptions,
  type Dataset,
  loadCsv,
  readCsv,
  sortLabels,
} from '../../training/data.ts';

/** What the model reads from an example: title and text joined. */
const joined = (e: Review | undefined): string | undefined => e && reviewText(e);

const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const EMOTION: CsvOptions = {
  header: true,
  labelColumn: 'label',
  textColumn: 'text',
  titleColumn: null,
  includeTitle: false,
  strict: false,
};

/** A byte stream of `text` cut every `chunk` bytes (also inside multi-byte characters and quotes). */
function bytes(text: string, chunk = 64 * 1024): Readable {
  const all = Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  for (let i = 0; i < all.length; i += chunk) parts.push(all.subarray(i, i + chunk));
  return Readable.from(parts, { objectMode: false });
}

const read = (text: string, options: CsvOptions = AMAZON_CSV, chunk?: number): Promise<Dataset> =>
  readCsv(bytes(text, chunk), 'mem.csv', options);

const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

describe('readCsv: Amazon Review Full shape', () => {
  const csv = [
    '"5","Five Stars","Bought these to keep my Kindle safe."',
    '"1","","No title here, only a ""quoted"" body."',
    '"3","  Meh  ","  It is fine.  "',
    '',
  ].join('\n');

  test('title + space + text, empty titles dropped, fields trimmed, lines numbered', async () => {
    const d = await read(csv);
    assert.deepEqual(d.examples, [
      { label: '5', text: 'Bought these to keep my Kindle safe.', title: 'Five Stars', line: 1 },
      { label: '1', text: 'No title here, only a "quoted" body.', title: null, line: 2 },
      { label: '3', text: 'It is fine.', title: 'Meh', line: 3 },
    ]);
    assert.deepEqual(d.examples.map(reviewText), [
      'Five Stars Bought these to keep my Kindle safe.',
      'No title here, only a "quoted" body.',
      'Meh It is fine.',
    ]);
    assert.equal(d.rows, 3);
    assert.deepEqual(d.badRows, []);
    assert.deepEqual(d.labels, ['1', '3', '5']);
    assert.equal(d.uri, 'mem.csv');
  });

  test('sha256 is of the raw bytes, whatever the chunking', async () => {
    const text = `${csv}"4","Café ☕ – très bien","Ünïcode body 😀"\n`;
    const whole = await read(text);
    const tiny = await read(text, AMAZON_CSV, 3);
    assert.equal(whole.sha256, sha256(text));
    assert.equal(tiny.sha256, whole.sha256);
    assert.deepEqual(tiny.examples, whole.examples);
    assert.equal(joined(tiny.examples[3]), 'Café ☕ – très bien Ünïcode body 😀');
  });

  test('includeTitle false keeps the text only', async () => {
    const d = await read(csv, { ...AMAZON_CSV, includeTitle: false });
    assert.equal(joined(d.examples[0]), 'Bought these to keep my Kindle safe.');
  });

  test('CRLF line ends, a UTF-8 BOM and blank lines', async () => {
    const d = await read('\ufeff"2","a","b"\r\n\r\n"4","c","d"\r\n');
    assert.deepEqual(
      d.examples.map((e) => [e.label, reviewText(e), e.line]),
      [
        ['2', 'a b', 1],
        ['4', 'c d', 3],
      ],
    );
  });

  test('a quoted field spanning lines: rows keep the line they start on', async () => {
    const d = await read('"5","t","first\nsecond"\n"1","","x"\n"2","y","two\n\nbreaks"\n"3","","z"\n');
    assert.deepEqual(
      d.examples.map((e) => e.line),
      [1, 3, 4, 7],
    );
    assert.equal(joined(d.examples[0]), 't first\nsecond');
  });
});

describe('readCsv: bad rows', () => {
  const csv = [
    '"5","ok","fine"', // 1
    '"4","two columns only"', // 2
    '"3","a","b","c"', // 3
    '"","no label","body"', // 4
    '"2","title","   "', // 5
    '"1","bad "quote" here","x"', // 6
    '1,a"b,c', // 7
    '"4","good","again"', // 8
    '"5","unclosed,"at the end', // 9
  ].join('\n');

  test('are skipped with line numbers and reasons; good rows around them are kept', async () => {
    const d = await read(csv);
    assert.deepEqual(
      d.examples.map((e) => [e.line, e.label]),
      [
        [1, '5'],
        [8, '4'],
      ],
    );
    assert.deepEqual(
      d.badRows.map((b) => b.line),
      [2, 3, 4, 5, 6, 7, 9],
    );
    const reason = (line: number): string => d.badRows.find((b) => b.line === line)?.reason ?? '';
    assert.equal(reason(2), '2 columns, expected 3');
    assert.equal(reason(3), '4 columns, expected 3');
    assert.equal(reason(4), 'empty label');
    assert.equal(reason(5), 'empty text');
    for (const line of [6, 7, 9]) assert.match(reason(line), /^unparseable quoting: /);
    assert.equal(d.rows, 9);
  });

  test('a short first row does not set the column count of a headerless file', async () => {
    const d = await read('"5","x"\n"4","a","b"\n"3","c","d"\n');
    assert.deepEqual(d.badRows, [{ line: 1, reason: '2 columns, need at least 3' }]);
    assert.equal(d.examples.length, 2);
  });

  test('strict mode fails at the first one, naming the file and line', async () => {
    await assert.rejects(read(csv, { ...AMAZON_CSV, strict: true }), (e: unknown) => {
      return e instanceof BadRequestError && e.message === 'mem.csv: line 2: 2 columns, expected 3';
    });
    await assert.rejects(read('"5","a","b"\n"4","x "y" z","c"\n', { ...AMAZON_CSV, strict: true }), {
      name: 'BadRequestError',
      message: /^mem\.csv: line 2: unparseable quoting: Invalid Closing Quote/,
    });
  });

  test('an unclosed quote that swallows the rest of a big file fails instead of losing rows', async () => {
    const rest = 'a line with no quote, so the quote never closes\n'.repeat(25_000); // 1.2 MB, past the 1 MB limit
    await assert.rejects(read(`"5","ok","row"\n"5","a","unclosed\n${rest}`, AMAZON_CSV), {
      name: 'BadRequestError',
      message: /^mem\.csv: line 2: Max Record Size: .* \(an unclosed quote\?\)$/,
    });
  });

  test('a file with no usable row is an error, not an empty data set', async () => {
    await assert.rejects(read('"5",""\n'), {
      message: 'mem.csv: no usable rows (1 bad); first bad row: line 1: 2 columns, need at least 3',
    });
    await assert.rejects(read(''), { message: /mem\.csv: no usable rows \(0 bad\)/ });
  });
});

describe('readCsv: header and column options', () => {
  const csv = 'id,label,text,extra\n1,joy,"Falling in love",x\n2,fear,"A traffic accident",y\n';

  test('columns by name', async () => {
    const d = await read(csv, EMOTION);
    assert.deepEqual(d.examples, [
      { label: 'joy', text: 'Falling in love', title: null, line: 2 },
      { label: 'fear', text: 'A traffic accident', title: null, line: 3 },
    ]);
    assert.equal(d.rows, 2);
    assert.deepEqual(d.labels, ['fear', 'joy']);
  });

  test('columns by index with a header, and a title by name', async () => {
    const byIndex = await read(csv, { ...EMOTION, labelColumn: 1, textColumn: 2 });
    assert.deepEqual(
      byIndex.examples.map((e) => e.label),
      ['joy', 'fear'],
    );
    const titled = await read(csv, { ...EMOTION, titleColumn: 'extra', includeTitle: true });
    assert.equal(joined(titled.examples[0]), 'x Falling in love');
  });

  test('a header row with a different count than a data row makes that row bad', async () => {
    const d = await read('label,text\njoy,a\nfear,b,c\n', EMOTION);
    assert.deepEqual(d.badRows, [{ line: 3, reason: '3 columns, expected 2' }]);
  });

  test('a missing column name lists the header', async () => {
    await assert.rejects(read(csv, { ...EMOTION, labelColumn: 'rating' }), {
      name: 'BadRequestError',
      message:
        'mem.csv: labelColumn "rating" is not in the header; its columns are "id", "label", "text", "extra"',
    });
    await assert.rejects(read(csv, { ...EMOTION, textColumn: 7 }), {
      message: /textColumn index 7 is not in the header; its columns are "id"/,
    });
  });

  test('a BOM does not become part of the first column name', async () => {
    const d = await read(`\ufefflabel,text\njoy,hi\n`, EMOTION);
    assert.equal(d.examples[0]?.label, 'joy');
  });

  test('an empty file with header: true is named', async () => {
    await assert.rejects(read('', EMOTION), { message: 'mem.csv: the file is empty; expected a header row' });
  });

  test('names without a header, and contradictory options, are rejected', async () => {
    await assert.rejects(read(csv, { ...EMOTION, header: false }), {
      message: /labelColumn "label" is a name, but the file has no header; use a 0-based index/,
    });
    await assert.rejects(read(csv, { ...AMAZON_CSV, titleColumn: null }), {
      message: /includeTitle needs a titleColumn/,
    });
    await assert.rejects(read(csv, { ...AMAZON_CSV, labelColumn: -1 }), {
      message: 'labelColumn must be a column name or a 0-based index, got -1',
    });
    await assert.rejects(read(csv, { ...AMAZON_CSV, textColumn: 0 }), {
      message: /must be different columns/,
    });
  });
});

describe('loadCsv from a path', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'training-data-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reads a local file and a file:// URI', async () => {
    const path = join(dir, 'reviews.csv');
    const text = '"5","Great","Works well"\n"1","Bad","Broke"\n';
    await writeFile(path, text);
    const d = await loadCsv(path, AMAZON_CSV);
    assert.equal(d.uri, path);
    assert.equal(d.sha256, sha256(text));
    assert.deepEqual(d.examples.map(reviewText), ['Great Works well', 'Bad Broke']);
    const viaUrl = await loadCsv(`file://${path}`, AMAZON_CSV);
    assert.deepEqual(viaUrl.examples, d.examples);
  });

  test('a missing file is named', async () => {
    const path = join(dir, 'nope.csv');
    await assert.rejects(loadCsv(path, AMAZON_CSV), (e: unknown) => {
      return e instanceof NotFoundError && e.message.includes(path);
    });
  });
});

describe('sortLabels', () => {
  test('numeric labels ascend by value, duplicates dropped', () => {
    assert.deepEqual(sortLabels(['5', '1', '10', '2', '5', '9']), ['1', '2', '5', '9', '10']);
    assert.deepEqual(sortLabels(['0.5', '-1', '2']), ['-1', '0.5', '2']);
  });
  test('anything else sorts by code point, independent of locale', () => {
    assert.deepEqual(sortLabels(['joy', 'anger', 'Zeal', 'fear', '5']), [
      '5',
      'Zeal',
      'anger',
      'fear',
      'joy',
    ]);
  });
  test('an empty input gives no labels', () => {
    assert.deepEqual(sortLabels([]), []);
  });
});

describe('the shared data files', {
  skip: existsSync(DATA) ? false : 'needs ../shared/data (absent)',
}, () => {
  test('test.csv: 6,154 rows, 5 star labels, no bad rows, sha256 of the file', async () => {
    const path = join(DATA, 'test.csv');
    const d = await loadCsv(path, AMAZON_CSV);
    assert.equal(d.rows, 6154);
    assert.equal(d.examples.length, 6154);
    assert.deepEqual(d.badRows, []);
    assert.deepEqual(d.labels, ['1', '2', '3', '4', '5']);
    assert.equal(d.sha256, sha256(await readFile(path)));
    assert.equal(d.examples.at(-1)?.line, 6154);
  });

  test('emotion.csv: 7,480 rows with a header, 7 classes', async () => {
    const d = await loadCsv(join(DATA, 'emotion.csv'), { ...EMOTION, strict: true });
    assert.equal(d.rows, 7480);
    assert.deepEqual(d.labels, ['anger', 'disgust', 'fear', 'guilt', 'joy', 'sadness', 'shame']);
    assert.equal(d.examples[0]?.line, 2);
  });
});
