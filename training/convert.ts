/**
 * `npm run convert -- --from <bundle> --out <root>`: publishes an existing bundle again as a new version
 * that also carries model.onnx, so the function serves it on ONNX Runtime. The model is the same: its
 * tfjs files are copied byte for byte, the graph is exported from them and held to them within 1e-5 on
 * the probe set before anything is written, and the manifest is the old one plus the graph's record and
 * `convertedFrom`. With `--refit-postprocessing` the new version also (or only, for a bundle that has its
 * graph) gets its post-processing refitted on its own validation split (training/refit.ts): same model
 * files, new temperature, decision rule and validation/test figures in the manifest. Published like
 * training's bundles (`latest` moves unless --no-latest).
 *
 * `--quantize int8` makes a smaller model instead of the same one: embedding tables become int8 codes with
 * per-row scales (src/model/quantize.ts) in model.onnx, the tfjs files are rewritten with the dequantised
 * values (so both runtimes still answer alike), and the manifest's figures stay those of the source model:
 * measure the new version through the API (`npm run eval:api`). It does not combine with a refit (which
 * would fit the unquantised model): quantise first, then refit the quantised version.
 * Exits 0 on success, 2 on a usage error, 1 on any other failure.
 */
import { parseArgs } from 'node:util';
import { assembleBundle } from '../src/bundle/files.ts';
import { MANIFEST_FILE, type Manifest, TOKENIZER_FILE, VERSION_PATTERN } from '../src/bundle/manifest.ts';
import { type Published, publishBundle } from '../src/bundle/publish.ts';
import { type LoadedBundle, loadBundle, parseJson } from '../src/bundle/read.ts';
import { modelToFiles } from '../src/bundle/serialize.ts';
import { BadRequestError } from '../src/errors.ts';
import { type BackendPreference, isBackendPreference, selectBackend } from '../src/model/backend.ts';
import { verifiedOnnx } from '../src/model/onnx/bundle.ts';
import type { DecisionRule, Postprocessing } from '../src/model/postprocess.ts';
import {
  isQuantization,
  QUANTIZATIONS,
  type Quantization,
  quantizeEmbeddings,
} from '../src/model/quantize.ts';
import { buildTfjsRuntime } from '../src/model/tfjs-runtime.ts';
import { createStorage, type Storage } from '../src/storage/index.ts';
import { type TokenizerJson, WordTokenizer } from '../src/text/tokenizer.ts';
import { decisionRules } from './args.ts';
import { type CalibrationReport, headline, type ViewMetrics } from './assess.ts';
import { refitPostprocessing } from './refit.ts';

export interface ConvertOptions {
  /** A bundle root (its `latest`) or a version. */
  from: string;
  /** The root to publish into. */
  out: string;
  /** Default: the source version + "-onnx" (+ "-int8" when quantising, + "-refit" when refitting). */
  version?: string;
  /** Re-export model.onnx with quantised embeddings (also from a bundle that has a graph). */
  quantize?: Quantization;
  setLatest?: boolean;
  backend?: BackendPreference;
  storage?: Storage;
  log?: (message: string) => void;
  now?: Date;
  /**
   * Refit the post-processing on the validation rows the bundle's training run held out: `data` is the
   * training CSV (default: the path the manifest records; its sha256 must match), `test` a held-out CSV
   * to report on (default: the manifest's; null: none, and the manifest's test figures are dropped).
   */
  refit?: { data?: string; test?: string | null; decisions?: DecisionRule[] };
}

export interface ConvertResult {
  from: { version: string; uri: string };
  published: Published;
  /** Set when model.onnx was added. */
  onnxBytes?: number;
  maxDifference?: number;
  /** Set with `refit`: what was fitted and how each rule scored on validation. */
  postprocessing?: Postprocessing;
  calibration?: CalibrationReport;
  validation?: Record<string, ReturnType<typeof headline>>;
  test?: Record<string, ReturnType<typeof headline>>;
}

export const CONVERTED_SUFFIX = '-onnx';
export const REFIT_SUFFIX = '-refit';

export async function convertBundle(options: ConvertOptions): Promise<ConvertResult> {
  const log = options.log ?? (() => undefined);
  const storage = options.storage ?? createStorage();
  const source = await loadBundle(options.from, { storage });
  const { manifest } = source;
  if (options.quantize && options.refit) {
    throw new BadRequestError(
      '--quantize and --refit-postprocessing do not combine: quantise, then refit the quantised version (the post-processing is fitted on the model that is served)',
    );
  }
  const addGraph = !manifest.runtime?.onnx || options.quantize !== undefined;
  if (!addGraph && !options.refit) {
    throw new BadRequestError(
      `${source.uri} already carries ${manifest.runtime?.onnx?.file}; nothing to convert (--refit-postprocessing refits its post-processing)`,
    );
  }
  const graphSuffix = options.quantize ? `-${options.quantize}` : CONVERTED_SUFFIX;
  const suffix = `${addGraph ? graphSuffix : ''}${options.refit ? REFIT_SUFFIX : ''}`;
  const version = options.version ?? `${manifest.version}${suffix}`;
  if (!VERSION_PATTERN.test(version))
    throw new BadRequestError(`--version ${JSON.stringify(version)} is not a valid id`);
  const payload = new Map([...source.files].filter(([name]) => name !== MANIFEST_FILE));
  const { format: _format, files: _files, ...fields } = manifest;
  const next: Omit<Manifest, 'format' | 'files'> = {
    ...fields,
    version,
    createdAt: (options.now ?? new Date()).toISOString(),
  };
  const notes: string[] = [];
  const result: Omit<ConvertResult, 'published'> = { from: { version: manifest.version, uri: source.uri } };
  if (addGraph) {
    const onnx = await exportGraph(source, version, {
      backend: options.backend ?? 'auto',
      log,
      quantize: options.quantize,
    });
    for (const [name, bytes] of onnx.files) payload.set(name, bytes);
    next.runtime = { ...manifest.runtime, onnx: onnx.record };
    notes.push(
      options.quantize
        ? `--quantize ${options.quantize}: embeddings quantised (the tfjs files hold the dequantised values, model.onnx the codes); the figures are the source model's`
        : 'the same model and tokenizer files, plus model.onnx exported from them',
    );
    Object.assign(result, {
      onnxBytes: onnx.bytes.byteLength,
      maxDifference: onnx.record.check.maxDifference,
    });
  }
  if (options.refit) {
    const refit = await refitPostprocessing(source, {
      ...options.refit,
      ...(options.backend ? { backend: options.backend } : {}),
      storage,
      log,
    });
    const headlines = (views: Partial<Record<string, ViewMetrics>>) =>
      Object.fromEntries(Object.entries(views).flatMap(([view, m]) => (m ? [[view, headline(m)]] : [])));
    const { test: _stale, ...metrics } = manifest.metrics;
    next.postprocessing = refit.postprocessing;
    next.metrics = {
      ...metrics,
      ...(refit.test ? { test: headlines(refit.test) } : {}),
      validation: headlines(refit.validation),
      calibration: refit.calibration,
    };
    notes.push(
      `post-processing refitted on the ${refit.data.validationRows} validation rows of ${refit.data.uri} (sha256 ${refit.data.sha256.slice(0, 8)}…)` +
        (refit.testUri ? `, test figures from ${refit.testUri}` : ', no test figures'),
    );
    Object.assign(result, {
      postprocessing: refit.postprocessing,
      calibration: refit.calibration,
      validation: headlines(refit.validation),
      ...(refit.test ? { test: headlines(refit.test) } : {}),
    });
  }
  next.convertedFrom = {
    version: manifest.version,
    // As given on the command line: a machine's absolute path would mean nothing elsewhere.
    uri: options.from,
    createdAt: manifest.createdAt,
    note: `npm run convert: ${notes.join('; ')}`,
  };
  const published = await publishBundle(assembleBundle(payload, next), options.out, {
    storage,
    log,
    setLatest: options.setLatest ?? true,
  });
  return { ...result, published };
}

/**
 * model.onnx from the bundle's tfjs files, checked against them on the probe set; quantised, also the
 * rewritten tfjs files. `files` is what replaces or joins the bundle's.
 */
async function exportGraph(
  source: LoadedBundle,
  version: string,
  options: {
    backend: BackendPreference;
    log: (message: string) => void;
    quantize?: Quantization | undefined;
  },
) {
  const { manifest } = source;
  const { log } = options;
  const backend = await selectBackend(options.backend);
  log(`read ${manifest.name} ${manifest.version} from ${source.uri}; tfjs backend ${backend.name}`);
  const runtime = await buildTfjsRuntime(source, backend.name);
  try {
    const tokenizer = new WordTokenizer(
      parseJson(fileOf(source, TOKENIZER_FILE), TOKENIZER_FILE, source.uri) as TokenizerJson,
    );
    const started = performance.now();
    const quantized = options.quantize ? quantizeEmbeddings(runtime.model) : new Map();
    const onnx = await verifiedOnnx(runtime.model, {
      tokenizer,
      maxLen: manifest.preprocessing.maxLen,
      metadata: { name: manifest.name, version },
      quantized,
    });
    log(
      `exported ${onnx.record.file} (${onnx.bytes.byteLength} bytes) and checked it on ${onnx.record.check.probes} probes: ` +
        `max difference ${onnx.record.check.maxDifference} in ${Math.round(performance.now() - started)} ms`,
    );
    const files = new Map<string, Uint8Array>(
      quantized.size > 0 ? Object.entries(await modelToFiles(runtime.model)) : [],
    );
    files.set(onnx.record.file, onnx.bytes);
    return { ...onnx, files };
  } finally {
    runtime.dispose();
  }
}

function fileOf(loaded: LoadedBundle, name: string): Uint8Array {
  const bytes = loaded.files.get(name);
  if (!bytes) throw new BadRequestError(`${loaded.uri}: ${name} is missing`);
  return bytes;
}

const HELP = `Usage: npm run convert -- --from <bundle> --out <root> [options]

Publishes the bundle again as a new version carrying model.onnx (checked against the tfjs files within
1e-5 on 200 probe sequences), so the function serves it with ONNX Runtime; with --refit-postprocessing,
(also) with its post-processing (temperature, decision rule) refitted on the validation rows its training
run held out, chosen as training chooses it.

  --from <uri>          bundle root (its latest) or version: folder, file:// or s3://
  --out <uri>           root to publish into (often the same root)
  --version <id>        new version id (default: the source version + "${CONVERTED_SUFFIX}" when model.onnx is
                        added, + "${REFIT_SUFFIX}" when the post-processing is refitted)
  --refit-postprocessing
                        refit the post-processing on the bundle's own validation split
  --quantize int8       store embedding tables as int8 with per-row scales (a bag model's graph shrinks
                        about 3.5x); also re-exports a bundle that already has model.onnx
  --data <uri>          with --refit-postprocessing: the training CSV (default: the path the manifest
                        records; its sha256 must match the manifest's)
  --test <uri|none>     with --refit-postprocessing: held-out CSV to report on (default: the manifest's)
  --decisions <list>    with --refit-postprocessing: rules the choice may pick, e.g. argmax,median,offsets
                        (default: the training run's, else argmax,median)
  --no-latest           publish without moving latest
  --backend <name>      TensorFlow.js backend for the check: auto, wasm, cpu, node (default auto)
  --endpoint-url <url>  S3-compatible endpoint for s3:// URIs
  --region <name>       S3 region
  --help
`;

export async function main(argv: string[]): Promise<number> {
  let options: ConvertOptions;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        from: { type: 'string' },
        out: { type: 'string' },
        version: { type: 'string' },
        'refit-postprocessing': { type: 'boolean', default: false },
        quantize: { type: 'string' },
        data: { type: 'string' },
        test: { type: 'string' },
        decisions: { type: 'string' },
        'no-latest': { type: 'boolean', default: false },
        backend: { type: 'string', default: 'auto' },
        'endpoint-url': { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (!values.from || !values.out) throw new BadRequestError('--from and --out are required (see --help)');
    if (!values['refit-postprocessing'] && (values.data || values.test || values.decisions))
      throw new BadRequestError('--data, --test and --decisions go with --refit-postprocessing');
    const decisions = values.decisions
      ? decisionRules(values.decisions.split(',').map((d) => d.trim()))
      : null;
    if (!isBackendPreference(values.backend))
      throw new BadRequestError(`--backend ${values.backend} is unknown`);
    const s3 = {
      ...(values['endpoint-url'] ? { endpoint: values['endpoint-url'] } : {}),
      ...(values.region ? { region: values.region } : {}),
    };
    if (values.quantize !== undefined && !isQuantization(values.quantize)) {
      throw new BadRequestError(
        `--quantize ${values.quantize} is unknown (known: ${QUANTIZATIONS.join(', ')})`,
      );
    }
    options = {
      ...(values.quantize ? { quantize: values.quantize } : {}),
      from: values.from,
      out: values.out,
      ...(values.version ? { version: values.version } : {}),
      setLatest: !values['no-latest'],
      ...(values['refit-postprocessing']
        ? {
            refit: {
              ...(values.data ? { data: values.data } : {}),
              ...(values.test ? { test: values.test === 'none' ? null : values.test } : {}),
              ...(decisions ? { decisions } : {}),
            },
          }
        : {}),
      backend: values.backend,
      storage: createStorage({ s3 }),
      log: (message) => process.stderr.write(`convert: ${message}\n`),
    };
  } catch (error) {
    process.stderr.write(`convert: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    const result = await convertBundle(options);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`convert: failed: ${(error as Error).message}\n`);
    return error instanceof BadRequestError ? 2 : 1;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
