import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { BadRequestError } from '../../src/errors.ts';
import { alignLines } from '../../src/ranking/byte-range.ts';
import { type Columns, DEFAULT_COLUMNS, formatOf, type RowEvent, readRows } from '../../src/ranking/rows.ts';

async function events(text: string, format: 'csv' | 'jsonl', columns: Columns = DEFAULT_COLUMNS) {
  const out: RowEvent[] = [];
  for await (const e of readRows(Readable.from([Buffer.from(text)]), { format, columns, uri: 'mem' }))
    out.push(e);
  return out;
}
const bad = (list: RowEvent[]) => list.flatMap((e) => (e.kind === 'bad' ? [[e.line, e.reason]] : []));
const good = (list: RowEvent[]) => list.flatMap((e) => (e.kind === 'row' ? [e.row] : []));

describe('CSV rows', () => {
  const CSV = [
    'product_id,date,rating,title,text',
    'p1,2014-01-02,5,Great,Works well',
    ',2014-01-02,5,x,no product',
    'p2,2014-01-02,4,,',
    'p3,02/01/2014,4,t,bad date',
    'p4,2014-01-03,3,"Multi',
    'line",spans two lines',
    'p5,2014-01-03,2,too,many,columns',
    'p6,2014-01-04,,no rating,still scored',
    'p8,2014-01-06,1,,last',
    'p7,2014-01-05,"bad"quote,t,x',
    '',
  ].join('\n');

  test('good rows carry product, UTC day, review and rating; bad rows are reported by the line they start on', async () => {
    const list = await events(CSV, 'csv');
    assert.deepEqual(bad(list), [
      [3, 'missing product id'],
      [4, 'missing text'],
      [5, 'bad date "02/01/2014"'],
      [8, '6 columns, expected 5'],
      [11, bad(list)[4]?.[1]],
    ]);
    assert.match(String(bad(list)[4]?.[1]), /^unparseable quoting/);
    const rows = good(list);
    assert.deepEqual(
      rows.map((r) => [r.line, r.productId, r.date, r.review.title, r.review.text, r.rating]),
      [
        [2, 'p1', '2014-01-02', 'Great', 'Works well', 5],
        [6, 'p4', '2014-01-03', 'Multi\nline', 'spans two lines', 3],
        [9, 'p6', '2014-01-04', 'no rating', 'still scored', null],
        [10, 'p8', '2014-01-06', null, 'last', 1],
      ],
    );
  });

  test('other column names; title none; the default rating column may be absent, a named one may not', async () => {
    const text = 'id,when,body\nA,2014-01-01,hello\n';
    const columns = { ...DEFAULT_COLUMNS, product: 'id', date: 'when', text: 'body', title: null };
    const rows = good(await events(text, 'csv', columns));
    assert.deepEqual(rows[0]?.review, { text: 'hello', title: null });
    assert.equal(rows[0]?.rating, null);
    await assert.rejects(
      events(text, 'csv', { ...columns, rating: 'stars', ratingOptional: false }),
      BadRequestError,
    );
    await assert.rejects(
      events(text, 'csv', { ...columns, title: 'title' }),
      /--title-column "title" is not in the header/,
    );
  });

  test('an empty input has no header', async () => {
    await assert.rejects(events('', 'csv'), /empty input/);
  });
});

describe('JSON Lines rows', () => {
  test('one object per line; broken lines are bad rows by line, blank lines are ignored', async () => {
    const text = [
      '{"product_id":"p1","date":"2014-01-02T10:00:00Z","title":"Nice","text":"ok","rating":4}',
      '{"product_id":"p1",',
      '',
      '[1,2]',
      '{"product_id":7,"date":"2014-01-03","text":"numeric id"}',
      '{"product_id":"p2","date":"2014-01-03"}',
    ].join('\n');
    const list = await events(text, 'jsonl');
    assert.deepEqual(
      bad(list).map(([line, reason]) => [line, String(reason).split(':')[0]]),
      [
        [2, 'invalid JSON'],
        [4, 'not a JSON object'],
        [6, 'missing text'],
      ],
    );
    assert.deepEqual(
      good(list).map((r) => [r.line, r.productId, r.date, r.rating]),
      [
        [1, 'p1', '2014-01-02', 4],
        [5, '7', '2014-01-03', null],
      ],
    );
  });

  test('the format follows the extension', () => {
    assert.equal(formatOf('s3://b/k/reviews.jsonl'), 'jsonl');
    assert.equal(formatOf('x.ndjson.gz'), 'jsonl');
    assert.equal(formatOf('x.csv'), 'csv');
  });
});

describe('byte ranges aligned to lines', () => {
  const text = 'h\nalpha\nb\n\ncharlie delta\ne\nlast line without newline';
  const bytes = Buffer.from(text);

  async function slice(start: number, end: number, chunk: number): Promise<string> {
    const from = Math.max(0, start - 1);
    const chunks: Buffer[] = [];
    for (let i = from; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
    const out: Uint8Array[] = [];
    async function* source() {
      yield* chunks;
    }
    for await (const part of alignLines(source(), from, { start, end })) out.push(part);
    return Buffer.concat(out).toString();
  }

  test('ranges that tile the input see every line exactly once, whatever the cut points and chunk sizes', async () => {
    for (const chunk of [1, 3, 100]) {
      for (let a = 1; a < bytes.length; a++) {
        for (let b = a + 1; b < bytes.length; b++) {
          const parts = [
            await slice(0, a, chunk),
            await slice(a, b, chunk),
            await slice(b, bytes.length, chunk),
          ];
          assert.equal(parts.join(''), text, `cuts ${a},${b} chunk ${chunk}`);
          for (const part of parts)
            if (part.length > 0) assert.ok(part.endsWith('\n') || text.endsWith(part));
        }
      }
    }
  });

  test('a range inside one line owns it only when the line starts there', async () => {
    assert.equal(await slice(2, 4, 3), 'alpha\n');
    assert.equal(await slice(3, 7, 3), '');
  });
});
