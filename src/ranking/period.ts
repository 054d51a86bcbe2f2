/**
 * The period a ranking covers: an ISO 8601 week (Monday to Sunday, UTC) or an inclusive range of days.
 * Days are 'YYYY-MM-DD' strings throughout, so comparing them as strings compares them as dates.
 * A malformed week, day or label is a BadRequestError naming it.
 */
import { BadRequestError } from '../errors.ts';

export interface Period {
  /** First day, inclusive. */
  from: string;
  /** Last day, inclusive. */
  to: string;
  /** '2014-W05' for a week, '2014-01-01_2014-06-30' for a range: the output folder's name. */
  label: string;
}

const DAY_MS = 86_400_000;
const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const WEEK_PATTERN = /^(\d{4})-W(\d{2})$/;

/** Days since 1970-01-01 of a 'YYYY-MM-DD' day, or null when it is not a real calendar day. */
export function dayNumber(day: string): number | null {
  const match = DAY_PATTERN.exec(day);
  if (!match) return null;
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, date);
  // Date.UTC rolls 2014-02-30 over to March; a real day survives the round trip.
  return formatDay(ms / DAY_MS) === day ? ms / DAY_MS : null;
}

export function formatDay(dayNum: number): string {
  return new Date(dayNum * DAY_MS).toISOString().slice(0, 10);
}

/** 0 = Monday … 6 = Sunday. */
function isoWeekday(dayNum: number): number {
  // 1970-01-01 was a Thursday.
  return (((dayNum + 3) % 7) + 7) % 7;
}

/** The ISO week a day belongs to: the week's year is the year of its Thursday. */
export function isoWeekOf(day: string): { year: number; week: number } {
  const dayNum = requireDay(day, 'day');
  const thursday = dayNum - isoWeekday(dayNum) + 3;
  const year = new Date(thursday * DAY_MS).getUTCFullYear();
  const jan1 = Date.UTC(year, 0, 1) / DAY_MS;
  return { year, week: Math.floor((thursday - jan1) / 7) + 1 };
}

/** 52 or 53: a year has week 53 when its 28 December (always in the last week) is in week 53. */
export function isoWeeksInYear(year: number): number {
  return isoWeekOf(`${String(year).padStart(4, '0')}-12-28`).week;
}

export function weekLabel(year: number, week: number): string {
  return `${String(year).padStart(4, '0')}-W${String(week).padStart(2, '0')}`;
}

/** '2020-W53' → 2020-12-28 … 2021-01-03. */
export function parseWeek(text: string): Period {
  const match = WEEK_PATTERN.exec(text.trim());
  if (!match) throw new BadRequestError(`week ${JSON.stringify(text)} is not YYYY-Www (e.g. 2014-W05)`);
  const year = Number(match[1]);
  const week = Number(match[2]);
  const weeks = isoWeeksInYear(year);
  if (week < 1 || week > weeks) {
    throw new BadRequestError(`week ${JSON.stringify(text)}: ${year} has ISO weeks 01-${weeks}`);
  }
  // Week 1 is the week holding 4 January.
  const jan4 = Date.UTC(year, 0, 4) / DAY_MS;
  const monday = jan4 - isoWeekday(jan4) + (week - 1) * 7;
  return { from: formatDay(monday), to: formatDay(monday + 6), label: weekLabel(year, week) };
}

/** An inclusive range of days. */
export function parseRange(from: string, to: string): Period {
  const start = requireDay(from, 'from');
  const end = requireDay(to, 'to');
  if (start > end) throw new BadRequestError(`from ${from} is after to ${to}`);
  return { from, to, label: `${from}_${to}` };
}

/** The week of `day` itself when `day` is its Sunday (the week is complete), else the week before. */
export function lastCompleteWeek(lastDay: string): Period {
  const dayNum = requireDay(lastDay, 'last day');
  const sunday = isoWeekday(dayNum) === 6 ? dayNum : dayNum - isoWeekday(dayNum) - 1;
  const { year, week } = isoWeekOf(formatDay(sunday));
  return parseWeek(weekLabel(year, week));
}

/** The day before a 'YYYY-MM-DD' day. */
export function dayBefore(day: string): string {
  return formatDay(requireDay(day, 'day') - 1);
}

export function inPeriod(period: Period, day: string): boolean {
  return day >= period.from && day <= period.to;
}

/** Reads a period back from its label, e.g. when a Lambda event names it. */
export function parsePeriodLabel(label: string): Period {
  if (WEEK_PATTERN.test(label)) return parseWeek(label);
  const [from, to, ...rest] = label.split('_');
  if (from === undefined || to === undefined || rest.length > 0) {
    throw new BadRequestError(
      `period ${JSON.stringify(label)} is neither YYYY-Www nor YYYY-MM-DD_YYYY-MM-DD`,
    );
  }
  return parseRange(from, to);
}

function requireDay(day: string, what: string): number {
  const n = dayNumber(day);
  if (n === null)
    throw new BadRequestError(`${what} ${JSON.stringify(day)} is not a calendar day YYYY-MM-DD`);
  return n;
}

/**
 * The UTC day of a date cell: 'YYYY-MM-DD' as is, or an ISO timestamp ('2014-02-28T23:30:00-05:00')
 * converted to its UTC day. Null for anything else.
 */
export function utcDayOf(raw: string): string | null {
  const text = raw.trim();
  if (DAY_PATTERN.test(text)) return dayNumber(text) === null ? null : text;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)) return null;
  // Without a zone designator JavaScript would read local time; the job's days are UTC.
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text}Z`;
  const ms = Date.parse(zoned);
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(0, 10) : null;
}
