/**
 * `npm run eval:api`: model quality measured the way callers use the service. Starts `npm start`'s server
 * on a bundle, sends a labelled CSV through POST /predictions in requests of up to 100 reviews, in every
 * view (title + text; text only, as most callers send), and computes the metrics from the API's own
 * answers (the `rating` field; its probabilities for ECE). Prints JSON.
 *
 *   npm run eval:api -- [--data ../shared/data/test.csv] [--model models/review-sentiment] [csv shape flags]
 */
import { Agent } from 'node:http';
import { parseArgs } from 'node:util';
import { VIEWS, type ViewName, viewsOf } from '../training/assess.ts';
import { expectedCalibrationError } from '../training/calibration.ts';
import { AMAZON_CSV, type CsvOptions, type Example, loadCsv } from '../training/data.ts';
import { evaluate } from '../training/evaluate.ts';
import { machineInfo } from './lib/machine.ts';
import { printJson, progress } from './lib/output.ts';
import { postPredictions, startServerChild } from './lib/server.ts';

const REQUEST_REVIEWS = 100;
const CONCURRENCY = 4;
/** Node's global agent keeps connections alive since Node 19; this one does not. */
const FRESH_CONNECTIONS = new Agent({ keepAlive: false });

interface ApiPrediction {
  rating: number | string;
  probabilities: Record<string, number>;
}

interface Options {
  data: string;
  model: string;
  csv: CsvOptions;
}

function parse(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string', default: '../shared/data/test.csv' },
      model: { type: 'string', default: 'models/review-sentiment' },
      header: { type: 'boolean', default: false },
      'label-column': { type: 'string' },
      'text-column': { type: 'string' },
      'title-column': { type: 'string' },
    },
  });
  const column = (v: string | undefined, fallback: string | number | null) =>
    v === undefined ? fallback : v === 'none' ? null : /^\d+$/.test(v) ? Number(v) : v;
  const titleColumn = column(values['title-column'], AMAZON_CSV.titleColumn);
  const csv: CsvOptions = {
    ...AMAZON_CSV,
    header: values.header,
    labelColumn: column(values['label-column'], AMAZON_CSV.labelColumn) ?? 0,
    textColumn: column(values['text-column'], AMAZON_CSV.textColumn) ?? 2,
    titleColumn,
    includeTitle: titleColumn !== null,
  };
  return { data: values.data, model: values.model, csv };
}

/** Every row through the API in requests of REQUEST_REVIEWS, CONCURRENCY at a time, answers in row order. */
async function scoreThroughApi(url: string, examples: readonly Example[]): Promise<ApiPrediction[]> {
  const answers: ApiPrediction[][] = [];
  const chunks: Example[][] = [];
  for (let i = 0; i < examples.length; i += REQUEST_REVIEWS)
    chunks.push(examples.slice(i, i + REQUEST_REVIEWS));
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let c = next++; c < chunks.length; c = next++) {
      const reviews = (chunks[c] ?? []).map((e) => (e.title ? { title: e.title, text: e.text } : e.text));
      // A fresh connection per request: a kept-alive socket the server timed out while the client waited
      // for a slow batch on a busy machine resets, and quality figures must not depend on that.
      const response = await postPredictions(url, JSON.stringify({ reviews }), FRESH_CONNECTIONS);
      if (response.status !== 200) throw new Error(`POST /predictions: ${response.status} ${response.body}`);
      answers[c] = (JSON.parse(response.body) as { predictions: ApiPrediction[] }).predictions;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return answers.flat();
}

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  const data = await loadCsv(options.data, options.csv);
  const { child, url } = await startServerChild({ MODEL_URI: options.model });
  try {
    const health = (await (await fetch(`${url}/health`)).json()) as {
      model: { name: string; version: string };
    };
    const labels = Object.keys(
      (await scoreThroughApi(url, data.examples.slice(0, 1)))[0]?.probabilities ?? {},
    );
    const known = data.examples.filter((e) => labels.includes(e.label));
    const truth = Int32Array.from(known, (e) => labels.indexOf(e.label));
    const values = labels.every((l) => /^\d+$/.test(l)) ? labels.map(Number) : null;
    const views: Partial<Record<ViewName, unknown>> = {};
    for (const view of viewsOf(known)) {
      progress(`${view}: ${known.length} reviews through POST /predictions`);
      const answers = await scoreThroughApi(url, known.map(VIEWS[view]));
      const probabilities = answers.map((a) => Float32Array.from(labels, (l) => a.probabilities[l] ?? 0));
      const predicted = Int32Array.from(answers, (a) => labels.indexOf(String(a.rating)));
      const metrics = evaluate(truth, probabilities, labels, values, undefined, predicted);
      const { n, accuracy, macroF1, mae, withinOne } = metrics;
      views[view] = {
        n,
        accuracy,
        macroF1,
        mae,
        withinOne,
        ece: expectedCalibrationError(probabilities, truth),
      };
    }
    await printJson({
      evaluation: 'api',
      machine: machineInfo(),
      model: health.model,
      data: { uri: data.uri, rows: known.length },
      views,
    });
  } finally {
    await child.stop();
  }
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(`eval:api: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
