import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError } from '../../src/errors.ts';
import { LAST_COMPLETE_WEEK, resolvePeriod } from '../../src/ranking/lambda.ts';
import {
  dayNumber,
  inPeriod,
  isoWeekOf,
  isoWeeksInYear,
  lastCompleteWeek,
  parsePeriodLabel,
  parseRange,
  parseWeek,
  utcDayOf,
} from '../../src/ranking/period.ts';

describe('ISO weeks', () => {
  test('a plain week: Monday to Sunday, labelled YYYY-Www', () => {
    assert.deepEqual(parseWeek('2014-W05'), { from: '2014-01-27', to: '2014-02-02', label: '2014-W05' });
  });

  test('week 53 exists only in years whose 28 December falls in it', () => {
    assert.deepEqual(parseWeek('2020-W53'), { from: '2020-12-28', to: '2021-01-03', label: '2020-W53' });
    assert.deepEqual(parseWeek('2015-W53'), { from: '2015-12-28', to: '2016-01-03', label: '2015-W53' });
    assert.equal(isoWeeksInYear(2020), 53);
    assert.equal(isoWeeksInYear(2021), 52);
    assert.throws(() => parseWeek('2021-W53'), /2021 has ISO weeks 01-52/);
    assert.throws(() => parseWeek('2014-W00'), BadRequestError);
  });

  test('week 1 may start in the previous calendar year, and early January may belong to the last year', () => {
    assert.deepEqual(parseWeek('2019-W01'), { from: '2018-12-31', to: '2019-01-06', label: '2019-W01' });
    assert.deepEqual(parseWeek('2010-W01'), { from: '2010-01-04', to: '2010-01-10', label: '2010-W01' });
    assert.deepEqual(isoWeekOf('2021-01-03'), { year: 2020, week: 53 });
    assert.deepEqual(isoWeekOf('2008-12-29'), { year: 2009, week: 1 });
    assert.deepEqual(isoWeekOf('2010-01-03'), { year: 2009, week: 53 });
  });

  test('every day of a parsed week maps back to that week', () => {
    for (const label of ['2020-W53', '2019-W01', '2004-W38', '2014-W29']) {
      const week = parseWeek(label);
      const start = dayNumber(week.from) ?? 0;
      for (let d = 0; d < 7; d++) {
        const day = new Date((start + d) * 86_400_000).toISOString().slice(0, 10);
        const { year, week: w } = isoWeekOf(day);
        assert.equal(`${year}-W${String(w).padStart(2, '0')}`, label, day);
      }
    }
  });

  test('malformed weeks are refused', () => {
    for (const bad of ['2014-5', '2014-W5', '2014W05', '14-W05', '2014-w05']) {
      assert.throws(() => parseWeek(bad), BadRequestError, bad);
    }
  });
});

describe('last complete week', () => {
  test('a Sunday completes its own week; any other day means the week before', () => {
    // The data ends on Tuesday 2014-07-22, so W30 is incomplete and W29 (14-20 July) is the last full one.
    assert.equal(lastCompleteWeek('2014-07-22').label, '2014-W29');
    assert.equal(lastCompleteWeek('2014-07-20').label, '2014-W29');
    assert.equal(lastCompleteWeek('2014-07-21').label, '2014-W29');
    assert.equal(lastCompleteWeek('2021-01-03').label, '2020-W53');
    assert.equal(lastCompleteWeek('2021-01-04').label, '2020-W53');
  });
});

describe('ranges and days', () => {
  test('inclusive ranges, labelled from_to; windows over months are fine', () => {
    const range = parseRange('2014-01-01', '2014-06-30');
    assert.deepEqual(range, { from: '2014-01-01', to: '2014-06-30', label: '2014-01-01_2014-06-30' });
    assert.equal(inPeriod(range, '2014-01-01'), true);
    assert.equal(inPeriod(range, '2014-06-30'), true);
    assert.equal(inPeriod(range, '2014-07-01'), false);
    assert.equal(inPeriod(range, '2013-12-31'), false);
    assert.deepEqual(parseRange('2014-03-03', '2014-03-03').label, '2014-03-03_2014-03-03');
  });

  test('reversed or impossible days are refused', () => {
    assert.throws(() => parseRange('2014-06-30', '2014-01-01'), /after/);
    assert.throws(() => parseRange('2014-02-30', '2014-03-01'), /calendar day/);
    assert.equal(dayNumber('2016-02-29') !== null, true);
    assert.equal(dayNumber('2015-02-29'), null);
  });

  test('labels read back into the same period', () => {
    assert.deepEqual(parsePeriodLabel('2020-W53'), parseWeek('2020-W53'));
    assert.deepEqual(parsePeriodLabel('2014-01-01_2014-06-30'), parseRange('2014-01-01', '2014-06-30'));
    assert.throws(() => parsePeriodLabel('2014-01-01'), BadRequestError);
  });

  test('date cells: days as they are, timestamps to their UTC day, anything else null', () => {
    assert.equal(utcDayOf(' 2014-02-28 '), '2014-02-28');
    assert.equal(utcDayOf('2014-02-28T23:30:00-05:00'), '2014-03-01');
    assert.equal(utcDayOf('2014-02-28T23:30:00'), '2014-02-28');
    assert.equal(utcDayOf('2014-02-28T10:00:00Z'), '2014-02-28');
    assert.equal(utcDayOf('28/02/2014'), null);
    assert.equal(utcDayOf('2014-02-30'), null);
    assert.equal(utcDayOf(''), null);
  });
});

describe('the scheduled period (resolvePeriod)', () => {
  test('last-complete-week: the ISO week that ended before asOf (UTC)', () => {
    const at = (asOf: string) => resolvePeriod({ period: LAST_COMPLETE_WEEK, asOf }).label;
    assert.equal(at('2014-02-03T03:00:00Z'), '2014-W05'); // Monday 03:00: the week that just ended
    assert.equal(at('2014-02-02T23:59:59Z'), '2014-W04'); // Sunday: its week is not over yet
    assert.equal(at('2021-01-04T03:00:00Z'), '2020-W53');
    assert.equal(resolvePeriod({ period: '2014-W05' }).from, '2014-01-27');
    assert.throws(() => resolvePeriod({ period: LAST_COMPLETE_WEEK }), BadRequestError);
    assert.throws(() => resolvePeriod({ period: LAST_COMPLETE_WEEK, asOf: 'yesterday' }), BadRequestError);
  });
});
