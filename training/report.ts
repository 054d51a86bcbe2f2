/**
 * report.html for one training run: a single self-contained file (inline CSS and SVG, no scripts, no
 * fonts, no links) so it opens from S3, an e-mail or a laptop with no network. A Content-Security-Policy
 * meta tag forbids any fetch, so a resource reference slipping in later would show up as broken, not leak.
 * Every string from the run (labels, URIs, settings) comes from user data and is escaped.
 */
import { formatDuration } from '../src/common/duration.ts';
import type { CalibrationReport, ViewMetrics, ViewName } from './assess.ts';
import type { BaselineFigures } from './baselines/compare.ts';
import type { BadRow } from './data.ts';
import type { Metrics } from './evaluate.ts';
import type { FeedbackUse } from './feedback.ts';
import type { EpochRecord } from './history.ts';

export type { EpochRecord } from './history.ts';

export interface DataSummary {
  uri: string;
  rows: number;
  badRows: BadRow[];
}

export interface ReferenceFigure {
  name: string;
  accuracy: number;
  macroF1: number;
  mae: number;
}

export interface ReportInput {
  title: string;
  createdAt: string;
  bundle: { name: string; version: string; uri: string };
  settings: Record<string, unknown>;
  data: { train: DataSummary; test?: DataSummary; feedback?: FeedbackUse };
  history: EpochRecord[];
  /** Epoch number (as in EpochRecord.epoch) whose weights were kept; 0 when none. */
  bestEpoch: number;
  stoppedEarly: boolean;
  metrics: Metrics | null;
  /** Metrics on the held-out validation split: what settings are chosen on (the test set only reports). */
  validation?: Metrics | null;
  reference?: ReferenceFigure[];
  /** Every input view, the calibration chosen on validation, and the baselines on the same test rows. */
  assessment?: {
    test: Partial<Record<ViewName, ViewMetrics>> | null;
    validation: Partial<Record<ViewName, ViewMetrics>>;
    calibration: CalibrationReport;
    baselines: BaselineFigures | null;
  };
}

/** Bad rows listed in full; the rest are only counted (a broken file may have thousands). */
export const BAD_ROWS_SHOWN = 50;

export function renderReport(input: ReportInput): string {
  const sections = [
    summarySection(input),
    ...(input.assessment ? [viewsSection(input.assessment)] : []),
    metricsSection(input.metrics, input.reference ?? [], input.validation ?? null),
    curvesSection(input.history, input.bestEpoch, input.stoppedEarly),
    confusionSection(input.metrics),
    historySection(input.history, input.bestEpoch),
    dataSection(input.data),
    settingsSection(input.settings),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(input.title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(input.title)}</h1>
${sections.join('\n')}
</body>
</html>
`;
}

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 8px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
table { border-collapse: collapse; margin: 4px 0 8px; } th, td { padding: 3px 10px; border-bottom: 1px solid #eaeef2; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.model td { font-weight: 600; } tr.best td { background: #fff8c5; } tr.ref td { color: #57606a; }
.kv th { width: 220px; } .kv td { word-break: break-word; } code { font: 12px ui-monospace, Menlo, Consolas, monospace; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; } .note { color: #57606a; } .warn { color: #9a6700; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
`;

// ---- sections -----------------------------------------------------------------------------------------

function summarySection(input: ReportInput): string {
  const epochs = input.history.length;
  const seconds = input.history.reduce((total, h) => total + h.seconds, 0);
  const stop = input.stoppedEarly ? 'stopped early' : 'ran all epochs';
  const best =
    input.bestEpoch > 0 ? `best epoch ${input.bestEpoch}` : 'no epoch had a finite validation loss';
  return `<table class="kv">
${kv('Bundle', `${esc(input.bundle.name)} <code>${esc(input.bundle.version)}</code>`)}
${kv('Published to', `<code>${esc(input.bundle.uri)}</code>`)}
${kv('Created', esc(input.createdAt))}
${kv('Training', esc(`${epochs} epoch${epochs === 1 ? '' : 's'}, ${stop}, ${best}; ${formatDuration(seconds)}`))}
</table>`;
}

function metricsSection(
  metrics: Metrics | null,
  reference: ReferenceFigure[],
  validation: Metrics | null,
): string {
  if (!metrics)
    return '<h2>Test metrics</h2>\n<p class="note">No test set was given, so there are no held-out metrics.</p>';
  const b = metrics.majorityBaseline;
  const rows = [
    metricRow('model', 'This model', metrics.accuracy, metrics.macroF1, metrics.mae, metrics.withinOne),
    metricRow('', `Majority baseline (always “${b.label}”)`, b.accuracy, b.macroF1, b.mae, null),
    ...(validation
      ? [
          metricRow(
            '',
            `This model on the validation split (${validation.n} rows)`,
            validation.accuracy,
            validation.macroF1,
            validation.mae,
            validation.withinOne,
          ),
        ]
      : []),
    ...reference.map((r) => metricRow('ref', `Reference: ${r.name}`, r.accuracy, r.macroF1, r.mae, null)),
  ];
  const perClass = metrics.perClass.map(
    (c) =>
      `<tr><td>${esc(c.label)}</td>${num(c.precision)}${num(c.recall)}${num(c.f1)}<td class="num">${c.support}</td></tr>`,
  );
  return `<h2>Test metrics <span class="note">(${metrics.n} rows)</span></h2>
<table>
<tr><th></th><th class="num">Accuracy</th><th class="num">Macro-F1</th><th class="num">MAE</th><th class="num">Within one</th></tr>
${rows.join('\n')}
</table>
<p class="note">Classes are imbalanced: compare accuracy with the majority baseline, and read macro-F1 and MAE
(mean distance between predicted and true label value) beside it. Macro-F1 counts a class that is never predicted as F1 = 0.</p>
<table>
<tr><th>Class</th><th class="num">Precision</th><th class="num">Recall</th><th class="num">F1</th><th class="num">Support</th></tr>
${perClass.join('\n')}
</table>`;
}

function viewsSection(a: NonNullable<ReportInput['assessment']>): string {
  const row = (
    name: string,
    m: { accuracy: number; macroF1: number; mae: number | null; withinOne: number | null; ece?: number },
  ) =>
    `<tr><td>${esc(name)}</td>${num(m.accuracy)}${num(m.macroF1)}${num(m.mae)}${num(m.withinOne)}${num(m.ece ?? null)}</tr>`;
  const rows: string[] = [];
  for (const [split, views] of [
    ['test', a.test],
    ['validation', a.validation],
  ] as const) {
    for (const [view, m] of Object.entries(views ?? {})) rows.push(row(`This model, ${split}, ${view}`, m));
  }
  for (const [setup, figures] of Object.entries(a.baselines ?? {})) {
    for (const view of ['title+text', 'text-only'] as const) {
      const m = figures[view];
      if (m) rows.push(row(`TF-IDF + logistic regression (${setup}), test, ${view}`, m));
    }
  }
  const c = a.calibration;
  const offsets = c.offsets ? ` (offsets ${c.offsets.join(', ')} on the log-probabilities)` : '';
  return `<h2>Every input view</h2>
<p class="note">title+text: the review as the data has it; text-only: the same rows without their title, as most API
callers send them. Figures are after the post-processing serving applies: temperature ${esc(String(c.temperature))}
(validation NLL ${c.nllBefore.toFixed(4)} → ${c.nllAfter.toFixed(4)}) and the ${esc(c.decision)} rule${esc(offsets)}, both
chosen on validation. ECE: expected calibration error, 10 bins.</p>
<table>
<tr><th></th><th class="num">Accuracy</th><th class="num">Macro-F1</th><th class="num">MAE</th><th class="num">Within one</th><th class="num">ECE</th></tr>
${rows.join('\n')}
</table>
${eceTable(a)}
${decisionTable(c)}`;
}

/** Each decision rule considered, with the validation figures it was chosen (or not) on. */
function decisionTable(c: CalibrationReport): string {
  if (!c.candidates?.length) return '';
  const rows = c.candidates.map((d) => {
    const name = `${d.decision}${d.crossFitted ? ` (cross-fitted, ${c.folds} folds)` : ''}${d.decision === c.decision ? ' — chosen' : ''}`;
    const difference =
      d.maeDifference === null
        ? '<td class="num">—</td>'
        : `<td class="num">${d.maeDifference >= 0 ? '+' : ''}${d.maeDifference.toFixed(4)} ± ${(2 * (d.maeDifferenceStandardError ?? 0)).toFixed(4)}</td>`;
    return `<tr><td>${esc(name)}</td>${num(d.accuracy)}${num(d.macroF1)}${num(d.mae)}${difference}<td>${d.eligible ? 'yes' : 'no'}</td></tr>`;
  });
  const fitted = c.candidates.find((d) => d.offsets);
  const offsetsNote =
    fitted?.offsets && fitted.inSample
      ? ` Offsets fitted on all validation rows: ${esc(fitted.offsets.join(', '))}; in-sample macro-F1 ${fitted.inSample.macroF1.toFixed(3)}
(optimistic: the rows they were fitted on), which is why the cross-fitted figure is the one compared.`
      : '';
  return `<table>
<tr><th>Decision rule (validation, all views)</th><th class="num">Accuracy</th><th class="num">Macro-F1</th><th class="num">MAE</th><th class="num">MAE vs argmax ± 2 SE</th><th>MAE within noise</th></tr>
${rows.join('\n')}
</table>
<p class="note">Chosen: ${esc(c.selection)}.${offsetsNote}</p>`;
}

function eceTable(a: NonNullable<ReportInput['assessment']>): string {
  const rows = Object.entries(a.test ?? a.validation).map(
    ([view, m]) => `<tr><td>${esc(view)}</td>${num(m.eceUncalibrated)}${num(m.ece)}</tr>`,
  );
  return `<table>
<tr><th>ECE (${a.test ? 'test' : 'validation'})</th><th class="num">Before the temperature</th><th class="num">After</th></tr>
${rows.join('\n')}
</table>`;
}

function curvesSection(history: EpochRecord[], bestEpoch: number, stoppedEarly: boolean): string {
  if (history.length === 0) return '<h2>Learning curves</h2>\n<p class="note">No epochs were recorded.</p>';
  const epochs = history.map((h) => h.epoch);
  const loss = lineChart('Loss', epochs, bestEpoch, [
    { name: 'train loss', values: history.map((h) => h.loss), color: '#0969da', dashed: false },
    { name: 'validation loss', values: history.map((h) => h.valLoss), color: '#cf222e', dashed: true },
  ]);
  const accuracy = lineChart(
    'Accuracy',
    epochs,
    bestEpoch,
    [
      { name: 'train accuracy', values: history.map((h) => h.accuracy), color: '#0969da', dashed: false },
      {
        name: 'validation accuracy',
        values: history.map((h) => h.valAccuracy),
        color: '#cf222e',
        dashed: true,
      },
    ],
    [0, 1],
  );
  const note = stoppedEarly ? ' Training stopped early: validation loss stopped improving.' : '';
  return `<h2>Learning curves</h2>
<p class="note">The dotted vertical line marks the best epoch (lowest validation loss), whose weights the bundle holds.${note}</p>
<div class="charts">${loss}${accuracy}</div>`;
}

function confusionSection(metrics: Metrics | null): string {
  if (!metrics) return '';
  return `<h2>Confusion matrix</h2>
<p class="note">Rows are true labels, columns predicted labels; cells show counts, coloured by the share of their row.</p>
${confusionChart(metrics.labels, metrics.confusion)}`;
}

function historySection(history: EpochRecord[], bestEpoch: number): string {
  if (history.length === 0) return '';
  const rows = history.map((h) => {
    const best = h.epoch === bestEpoch ? ' class="best"' : '';
    return `<tr${best}><td class="num">${h.epoch}</td>${num(h.loss, 4)}${num(h.accuracy)}${num(h.valLoss, 4)}${num(h.valAccuracy)}${num(h.samplesPerSec, 0)}${num(h.seconds, 1)}</tr>`;
  });
  return `<h2>Epochs</h2>
<table>
<tr><th class="num">Epoch</th><th class="num">Loss</th><th class="num">Accuracy</th><th class="num">Val loss</th><th class="num">Val accuracy</th><th class="num">Samples/s</th><th class="num">Seconds</th></tr>
${rows.join('\n')}
</table>`;
}

function dataSection(data: ReportInput['data']): string {
  const sets: [string, DataSummary][] = [['Training data', data.train]];
  if (data.test) sets.push(['Test data', data.test]);
  const parts = sets.map(([name, set]) => {
    const bad = set.badRows.length;
    const head = `<h3>${name}</h3>
<table class="kv">${kv('Source', `<code>${esc(set.uri)}</code>`)}${kv('Rows read', String(set.rows))}${kv('Rows skipped as malformed', String(bad))}</table>`;
    if (bad === 0) return head;
    const shown = set.badRows.slice(0, BAD_ROWS_SHOWN);
    const more = bad > shown.length ? ` (first ${shown.length} of ${bad})` : '';
    const rows = shown.map((r) => `<tr><td class="num">${r.line}</td><td>${esc(r.reason)}</td></tr>`);
    return `${head}
<p class="warn">Malformed rows${more}:</p>
<table><tr><th class="num">Line</th><th>Reason</th></tr>
${rows.join('\n')}
</table>`;
  });
  if (data.feedback) parts.push(feedbackTable(data.feedback));
  return `<h2>Data</h2>\n${parts.join('\n')}`;
}

function feedbackTable(f: FeedbackUse): string {
  const d = f.dropped;
  return `<h3>Feedback (training rows only)</h3>
<table class="kv">${kv('Source', `<code>${esc(f.uri)}</code>`)}${kv('Records for this model', String(f.records))}${kv('Rows added to training', String(f.used))}${kv('Cap (share of fit rows)', String(f.cap))}${kv('Dropped: text already in the data', String(d.inData))}${kv('Dropped: conflicting labels', String(d.conflicting))}${kv('Dropped: label not in the data', String(d.unknownLabel))}${kv('Dropped: over the cap', String(d.overCap))}${kv('Dropped: unreadable', String(d.malformed))}</table>`;
}

function settingsSection(settings: Record<string, unknown>): string {
  const rows = Object.entries(settings).map(([key, value]) =>
    kv(esc(key), `<code>${esc(settingText(value))}</code>`),
  );
  if (rows.length === 0) return '<h2>Settings</h2>\n<p class="note">No settings were recorded.</p>';
  return `<h2>Settings</h2>\n<table class="kv">\n${rows.join('\n')}\n</table>`;
}

// ---- SVG charts ---------------------------------------------------------------------------------------

interface Series {
  name: string;
  values: number[];
  color: string;
  dashed: boolean;
}

const CHART = { width: 520, height: 280, left: 64, right: 16, top: 36, bottom: 40 };

/** Lines over epochs; non-finite values (a diverged loss) leave a gap instead of breaking the scale. */
function lineChart(
  title: string,
  epochs: number[],
  bestEpoch: number,
  series: Series[],
  clamp?: [number, number],
): string {
  const { width, height, left, right, top, bottom } = CHART;
  const finite = series.flatMap((s) => s.values.filter(Number.isFinite));
  const [lo, hi] = paddedRange(finite, clamp);
  const first = epochs[0] ?? 1;
  const last = epochs.at(-1) ?? first;
  const x = (epoch: number): number =>
    last === first
      ? (left + width - right) / 2
      : left + ((epoch - first) / (last - first)) * (width - left - right);
  const y = (v: number): number => top + (1 - (v - lo) / (hi - lo)) * (height - top - bottom);
  const ticks = niceTicks(lo, hi, 5);
  const yTicks = ticks.values.map(
    (v) =>
      `<line x1="${left}" x2="${width - right}" y1="${r(y(v))}" y2="${r(y(v))}" stroke="#eaeef2"/><text x="${left - 6}" y="${r(y(v) + 4)}" text-anchor="end" font-size="11" fill="#57606a">${v.toFixed(ticks.decimals)}</text>`,
  );
  const xTicks = epochTicks(epochs).map(
    (e) =>
      `<text x="${r(x(e))}" y="${height - bottom + 16}" text-anchor="middle" font-size="11" fill="#57606a">${e}</text>`,
  );
  const best = epochs.includes(bestEpoch)
    ? `<line x1="${r(x(bestEpoch))}" x2="${r(x(bestEpoch))}" y1="${top}" y2="${height - bottom}" stroke="#8250df" stroke-dasharray="2 3"/><text x="${r(x(bestEpoch))}" y="${top - 4}" text-anchor="middle" font-size="11" fill="#8250df">best ${bestEpoch}</text>`
    : '';
  const lines = series.map((s) => seriesSvg(s, epochs, x, y));
  const legend = series.map(
    (s, i) =>
      `<line x1="${left + i * 170}" x2="${left + i * 170 + 22}" y1="14" y2="14" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/><text x="${left + i * 170 + 28}" y="18" font-size="12">${esc(s.name)}</text>`,
  );
  return `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)} per epoch">
<title>${esc(title)} per epoch</title>
${yTicks.join('')}
<line x1="${left}" x2="${width - right}" y1="${height - bottom}" y2="${height - bottom}" stroke="#8c959f"/>
${xTicks.join('')}<text x="${(left + width - right) / 2}" y="${height - 6}" text-anchor="middle" font-size="12">epoch</text>
<text x="14" y="${(top + height - bottom) / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${(top + height - bottom) / 2})">${esc(title.toLowerCase())}</text>
${best}${lines.join('')}${legend.join('')}
</svg>`;
}

function seriesSvg(s: Series, epochs: number[], x: (e: number) => number, y: (v: number) => number): string {
  const segments: string[][] = [[]];
  const dots: string[] = [];
  s.values.forEach((v, i) => {
    const epoch = epochs[i] ?? i + 1;
    if (!Number.isFinite(v)) {
      segments.push([]);
      return;
    }
    segments.at(-1)?.push(`${r(x(epoch))},${r(y(v))}`);
    dots.push(
      `<circle cx="${r(x(epoch))}" cy="${r(y(v))}" r="3" fill="${s.color}"><title>${esc(s.name)}, epoch ${epoch}: ${formatValue(v, 4)}</title></circle>`,
    );
  });
  const dash = s.dashed ? ' stroke-dasharray="6 3"' : '';
  const polylines = segments
    .filter((points) => points.length > 1)
    .map(
      (points) =>
        `<polyline points="${points.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`,
    );
  return polylines.join('') + dots.join('');
}

/** Heat map of counts; the colour is the cell's share of its row (recall on the diagonal). */
function confusionChart(labels: string[], confusion: number[][]): string {
  const k = labels.length;
  const cell = Math.max(24, Math.min(64, Math.floor(560 / k)));
  const names = labels.map((l) => shorten(l, 14));
  const left = 40 + Math.min(14, Math.max(...names.map((n) => n.length))) * 7.5;
  const top = 56;
  const size = { width: left + k * cell + 16, height: top + k * cell + 16 };
  const cells: string[] = [];
  confusion.forEach((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, p) => {
      const share = total > 0 ? count / total : 0;
      const cx = left + p * cell;
      const cy = top + t * cell;
      const tip = `true ${labels[t]}, predicted ${labels[p]}: ${count} (${(share * 100).toFixed(1)}% of true ${labels[t]})`;
      cells.push(
        `<rect class="cell" x="${cx}" y="${cy}" width="${cell}" height="${cell}" fill="${blue(share)}" stroke="#fff"><title>${esc(tip)}</title></rect>` +
          `<text x="${cx + cell / 2}" y="${cy + cell / 2 + 4}" text-anchor="middle" font-size="${cell < 40 ? 10 : 12}" fill="${share > 0.5 ? '#fff' : '#1f2328'}">${count}</text>`,
      );
    });
  });
  const rowLabels = names.map(
    (n, t) =>
      `<text x="${left - 6}" y="${top + t * cell + cell / 2 + 4}" text-anchor="end" font-size="12"><title>${esc(labels[t] ?? '')}</title>${esc(n)}</text>`,
  );
  const colLabels = names.map(
    (n, p) =>
      `<text x="${left + p * cell + cell / 2}" y="${top - 6}" text-anchor="middle" font-size="12"${k > 8 ? ` transform="rotate(-35 ${left + p * cell + cell / 2} ${top - 6})"` : ''}><title>${esc(labels[p] ?? '')}</title>${esc(n)}</text>`,
  );
  return `<svg class="confusion" width="${size.width}" height="${size.height}" viewBox="0 0 ${size.width} ${size.height}" role="img" aria-label="Confusion matrix">
<title>Confusion matrix</title>
<text x="${left + (k * cell) / 2}" y="16" text-anchor="middle" font-size="12" font-weight="600">predicted</text>
<text x="12" y="${top + (k * cell) / 2}" text-anchor="middle" font-size="12" font-weight="600" transform="rotate(-90 12 ${top + (k * cell) / 2})">true</text>
${colLabels.join('')}${rowLabels.join('')}
${cells.join('\n')}
</svg>`;
}

// ---- helpers ------------------------------------------------------------------------------------------

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML content and attribute values (also inside inline SVG). */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function kv(key: string, valueHtml: string): string {
  return `<tr><th>${key}</th><td>${valueHtml}</td></tr>`;
}

function metricRow(
  cls: string,
  name: string,
  accuracy: number,
  macroF1: number,
  mae: number | null,
  withinOne: number | null,
): string {
  const attr = cls ? ` class="${cls}"` : '';
  return `<tr${attr}><td>${esc(name)}</td>${num(accuracy)}${num(macroF1)}${num(mae)}${num(withinOne)}</tr>`;
}

function num(value: number | null, digits = 3): string {
  return `<td class="num">${value === null || !Number.isFinite(value) ? '—' : value.toFixed(digits)}</td>`;
}

function settingText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '—';
  return JSON.stringify(value) ?? String(value);
}

function formatValue(v: number, digits: number): string {
  return Number(v.toPrecision(digits)).toString();
}

function shorten(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Coordinates rounded to 0.1 px keep the file small. */
function r(v: number): number {
  return Math.round(v * 10) / 10;
}

/** White (share 0) to dark blue (share 1). */
function blue(share: number): string {
  const from = [247, 251, 255];
  const to = [8, 48, 107];
  const rgb = from.map((c, i) => Math.round(c + ((to[i] ?? c) - c) * Math.min(1, Math.max(0, share))));
  return `rgb(${rgb.join(',')})`;
}

function paddedRange(values: number[], clamp?: [number, number]): [number, number] {
  if (values.length === 0) return clamp ?? [0, 1];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const pad = hi > lo ? (hi - lo) * 0.08 : Math.max(Math.abs(hi) * 0.1, 0.05);
  lo -= pad;
  hi += pad;
  if (clamp) {
    lo = Math.max(clamp[0], lo);
    hi = Math.min(clamp[1], hi);
  }
  return [lo, hi];
}

/** About `count` round values (1, 2 or 5 times a power of ten apart) inside [lo, hi], as d3's ticks. */
function niceTicks(lo: number, hi: number, count: number): { values: number[]; decimals: number } {
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const error = raw / power;
  const step = (error >= 7.07 ? 10 : error >= 3.16 ? 5 : error >= 1.41 ? 2 : 1) * power;
  const values: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    values.push(Number(v.toPrecision(12)));
  return { values, decimals: Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) };
}

/** Every epoch up to 15, otherwise about 10 evenly spaced ones (always the first and last). */
function epochTicks(epochs: number[]): number[] {
  if (epochs.length <= 15) return epochs;
  const step = Math.ceil(epochs.length / 10);
  return epochs.filter((_, i) => i % step === 0 || i === epochs.length - 1);
}
