/**
 * `npm run convert -- --from <bundle> --out <root>`: publishes an existing bundle again as a new version
 * that also carries model.onnx, so the function serves it on ONNX Runtime. The model is the same: its
 * tfjs files are copied byte for byte, the graph is exported from them and held to them within 1e-5 on
 * the probe set before anything is written, and the manifest is the old one plus the graph's record and
 * `convertedFrom`. Published like training's bundles (`latest` moves unless --no-latest).
 *
 * `--quantize int8` makes a smaller model instead of the same one: embedding tables become int8 codes with
 * per-row scales (src/model/quantize.ts) in model.onnx, the tfjs files are rewritten with the dequantised
 * values (so both runtimes still answer alike), and the manifest's metrics are those of the source model;
 * measure the new version through the API (`npm run eval:api`).
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
import {
  isQuantization,
  QUANTIZATIONS,
  type Quantization,
  quantizeEmbeddings,
} from '../src/model/quantize.ts';
import { buildTfjsRuntime } from '../src/model/tfjs-runtime.ts';
import { createStorage, type Storage } from '../src/storage/index.ts';
import { type TokenizerJson, WordTokenizer } from '../src/text/tokenizer.ts';

export interface ConvertOptions {
  /** A bundle root (its `latest`) or a version. */
  from: string;
  /** The root to publish into. */
  out: string;
  /** Default: the source version + "-onnx" (or + "-int8" when quantising). */
  version?: string;
  quantize?: Quantization;
  setLatest?: boolean;
  backend?: BackendPreference;
  storage?: Storage;
  log?: (message: string) => void;
  now?: Date;
}

export interface ConvertResult {
  from: { version: string; uri: string };
  published: Published;
  onnxBytes: number;
  maxDifference: number;
}

export const CONVERTED_SUFFIX = '-onnx';

export async function convertBundle(options: ConvertOptions): Promise<ConvertResult> {
  const log = options.log ?? (() => undefined);
  const storage = options.storage ?? createStorage();
  const source = await loadBundle(options.from, { storage });
  const { manifest } = source;
  if (manifest.runtime?.onnx && !options.quantize) {
    throw new BadRequestError(
      `${source.uri} already carries ${manifest.runtime.onnx.file}; nothing to convert`,
    );
  }
  const version =
    options.version ?? `${manifest.version}${options.quantize ? `-${options.quantize}` : CONVERTED_SUFFIX}`;
  if (!VERSION_PATTERN.test(version))
    throw new BadRequestError(`--version ${JSON.stringify(version)} is not a valid id`);
  const backend = await selectBackend(options.backend ?? 'auto');
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
    const payload = new Map([...source.files].filter(([name]) => name !== MANIFEST_FILE));
    if (quantized.size > 0) {
      for (const [name, bytes] of Object.entries(await modelToFiles(runtime.model))) payload.set(name, bytes);
    }
    payload.set(onnx.record.file, onnx.bytes);
    const { format: _format, files: _files, ...fields } = manifest;
    const next: Omit<Manifest, 'format' | 'files'> = {
      ...fields,
      version,
      createdAt: (options.now ?? new Date()).toISOString(),
      runtime: { ...manifest.runtime, onnx: onnx.record },
      convertedFrom: {
        version: manifest.version,
        // As given on the command line: a machine's absolute path would mean nothing elsewhere.
        uri: options.from,
        createdAt: manifest.createdAt,
        note: options.quantize
          ? `npm run convert --quantize ${options.quantize}: embeddings quantised (tfjs files hold the dequantised values, model.onnx the codes); metrics are the source model's`
          : 'npm run convert: the same model and tokenizer files, plus model.onnx exported from them',
      },
    };
    const published = await publishBundle(assembleBundle(payload, next), options.out, {
      storage,
      log,
      setLatest: options.setLatest ?? true,
    });
    return {
      from: { version: manifest.version, uri: source.uri },
      published,
      onnxBytes: onnx.bytes.byteLength,
      maxDifference: onnx.record.check.maxDifference,
    };
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
1e-5 on 200 probe sequences), so the function serves it with ONNX Runtime.

  --from <uri>          bundle root (its latest) or version: folder, file:// or s3://
  --out <uri>           root to publish into (often the same root)
  --version <id>        new version id (default: the source version + "${CONVERTED_SUFFIX}", or + "-int8")
  --quantize int8       store embedding tables as int8 with per-row scales (a bag model's ONNX graph
                        shrinks about 4x); also re-exports a bundle that already has model.onnx
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
        quantize: { type: 'string' },
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
