/**
 * Bundles the Lambda entries into ESM for the container image: the API (src/function/index.ts →
 * dist/index.mjs, the image's default CMD `index.handler`) and the ranking job's map and reduce steps
 * (src/ranking/lambda.ts → dist/ranking.mjs; template.yaml's ImageConfig.Command picks
 * `ranking.mapHandler` or `ranking.reduceHandler`), plus chunks for code loaded on demand (code splitting).
 * One image, three functions.
 *
 * External, installed as real node_modules beside index.mjs (package.json `dependencies` lists exactly
 * these): onnxruntime-node (a native addon with its shared library) and @tensorflow/* (the wasm backend
 * finds its .wasm binaries relative to its own package folder, and every tfjs package must share ONE
 * tfjs-core). Everything else, the AWS SDK included, is bundled so we run the SDK version we pinned and
 * tested rather than whichever one the Lambda runtime happens to carry.
 *
 * Splitting keeps TensorFlow.js out of a cold start on ONNX: the tfjs runtime (src/model/tfjs-runtime.ts)
 * is a dynamic import, so it and its static imports of @tensorflow/* land in a chunk that only a bundle
 * without model.onnx (or RUNTIME=tfjs) ever loads. Without splitting esbuild would hoist those imports
 * into index.mjs.
 *
 * Usage: node scripts/build.ts [--outdir <dir>] [--minify]
 */
import { readFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');
export const ENTRY_POINT = join(PROJECT_ROOT, 'src', 'function', 'index.ts');
export const OUTPUT_FILE_NAME = 'index.mjs';
export const EXTERNAL_PACKAGES = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-layers',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  // tfjs-node / tfjs-node-gpu: optional (never in the Lambda image), imported by name when asked for.
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  'onnxruntime-node',
];
export const CHUNK_FOLDER = 'chunks';
export const RANKING_ENTRY_POINT = join(PROJECT_ROOT, 'src', 'ranking', 'lambda.ts');
export const RANKING_FILE_NAME = 'ranking.mjs';

/**
 * In ESM output esbuild replaces a CommonJS `require()` it cannot inline with a shim that throws this at
 * run time. Today every bundled dependency is ESM (the AWS SDK, middy and Powertools all ship ESM builds),
 * so the bundle needs no `createRequire` banner, and a banner's top-level `require` could clash with a
 * bundled module's own. The build fails instead if that ever changes, rather than the function failing.
 */
const DYNAMIC_REQUIRE_SHIM = 'Dynamic require of "';

export interface BuildOptions {
  /** Folder that receives index.mjs and index.mjs.map; default <project>/dist. */
  outdir?: string;
  entryPoint?: string;
  /**
   * Off by default: the bundle lives in a container image where a few MB do not matter, and
   * unminified code keeps CloudWatch stack traces readable even without source maps.
   */
  minify?: boolean;
}

export interface BuildResult {
  outfile: string;
  /** The ranking job's map and reduce handlers. */
  rankingOutfile: string;
  bytes: number;
  /** Project-relative paths of the bundled inputs (lets callers check what was, and was not, inlined). */
  inputs: string[];
  /** Bare specifiers the bundle still imports at run time, from any output file (node builtins excluded). */
  externalImports: string[];
  /** External packages index.mjs imports statically, itself or through its static chunks: what every cold start loads. */
  entryStaticImports: string[];
  /** Every output file (index.mjs and the chunks), absolute paths. */
  outputs: string[];
  warnings: esbuild.Message[];
}

/**
 * Built-ins whose ESM import costs far more than their require(). Importing a built-in as ESM builds a
 * facade that reads every export once, getters included, and node:http's WebSocket, CloseEvent and
 * MessageEvent getters load undici: on Node 24 `import('node:http')` + https took 25-32 ms against 8.5 ms
 * for require(), on the critical path of every cold start (the AWS SDK's request handler imports it).
 */
const REQUIRED_BUILTINS = ['http'];

/**
 * Serves the built-ins above to bundled code through require(): a module re-exporting the built-in's
 * plain data properties (the lazy getters, which nothing here uses, are left out; an import of one
 * would fail the build as a missing export rather than pass unnoticed).
 */
const builtinsViaRequire: esbuild.Plugin = {
  name: 'builtins-via-require',
  setup(build) {
    const names = REQUIRED_BUILTINS.map((name) => name.replace(/[/]/g, '\\/')).join('|');
    const filter = new RegExp(`^(node:)?(${names})$`);
    build.onResolve({ filter }, (args) => ({
      path: args.path.replace(/^node:/, ''),
      namespace: 'builtin-via-require',
    }));
    build.onLoad({ filter: /.*/, namespace: 'builtin-via-require' }, (args) => {
      const builtin: object = createRequire(import.meta.url)(`node:${args.path}`);
      const keys = Object.entries(Object.getOwnPropertyDescriptors(builtin))
        .filter(([key, d]) => d.get === undefined && /^[A-Za-z_$][\w$]*$/.test(key))
        .map(([key]) => key);
      return {
        contents: [
          "import { createRequire } from 'node:module';",
          `const builtin = createRequire(import.meta.url)('node:${args.path}');`,
          'export default builtin;',
          `export const { ${keys.join(', ')} } = builtin;`,
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

export function buildOptions(options: BuildOptions = {}): esbuild.BuildOptions {
  const outdir = options.outdir ?? join(PROJECT_ROOT, 'dist');
  return {
    absWorkingDir: PROJECT_ROOT,
    entryPoints: {
      [OUTPUT_FILE_NAME.replace(/\.mjs$/, '')]: options.entryPoint ?? ENTRY_POINT,
      [RANKING_FILE_NAME.replace(/\.mjs$/, '')]: RANKING_ENTRY_POINT,
    },
    outdir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: `${CHUNK_FOLDER}/[name]-[hash]`,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Prefer the ESM builds (the AWS SDK ships both): they tree-shake and need no CJS interop.
    mainFields: ['module', 'main'],
    external: EXTERNAL_PACKAGES,
    sourcemap: 'linked',
    sourcesContent: false,
    minify: options.minify ?? false,
    metafile: true,
    logLevel: 'silent',
    plugins: [builtinsViaRequire],
  };
}

/** Runs the build and throws an Error listing esbuild's messages when it fails. */
export async function buildFunction(options: BuildOptions = {}): Promise<BuildResult> {
  const config = buildOptions(options);
  const outfile = join(String(config.outdir), OUTPUT_FILE_NAME);
  const rankingOutfile = join(String(config.outdir), RANKING_FILE_NAME);
  let result: esbuild.BuildResult<{ metafile: true }>;
  try {
    result = (await esbuild.build(config)) as esbuild.BuildResult<{ metafile: true }>;
  } catch (error) {
    const messages = await esbuild.formatMessages((error as esbuild.BuildFailure).errors ?? [], {
      kind: 'error',
    });
    const entry = relative(PROJECT_ROOT, options.entryPoint ?? ENTRY_POINT);
    throw new Error(`esbuild failed to bundle ${entry}:\n${messages.join('')}`, { cause: error });
  }
  const outputs = Object.keys(result.metafile.outputs).filter((path) => path.endsWith('.mjs'));
  let bytes = 0;
  for (const path of outputs) {
    const code = await readFile(join(PROJECT_ROOT, path), 'utf8');
    bytes += Buffer.byteLength(code);
    if (code.includes(DYNAMIC_REQUIRE_SHIM)) {
      throw new Error(
        `${path} calls require() from a bundled CommonJS module, which throws in ESM output: make that ` +
          "package external, or add a banner defining require with node:module's createRequire",
      );
    }
  }
  // Node built-ins resolve at run time, with or without node: (csv-parse imports 'stream').
  const bare = (i: { path: string; external?: boolean }) => i.external === true && !isBuiltin(i.path);
  const externalImports = outputs.flatMap((path) =>
    (result.metafile.outputs[path]?.imports ?? []).filter(bare).map((i) => i.path),
  );
  // Static imports from index.mjs, followed through the shared chunks it imports statically.
  const entryStaticImports: string[] = [];
  const seen = new Set<string>();
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const i of result.metafile.outputs[path]?.imports ?? []) {
      if (i.kind !== 'import-statement') continue;
      if (bare(i)) entryStaticImports.push(i.path);
      else if (!i.external) visit(i.path);
    }
  };
  visit(relative(PROJECT_ROOT, outfile));
  return {
    outfile,
    rankingOutfile,
    bytes,
    inputs: Object.keys(result.metafile.inputs),
    externalImports: [...new Set(externalImports)].sort(),
    entryStaticImports: [...new Set(entryStaticImports)].sort(),
    outputs: outputs.map((path) => join(PROJECT_ROOT, path)),
    warnings: result.warnings,
  };
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(2)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { outdir: { type: 'string' }, minify: { type: 'boolean', default: false } },
  });
  const started = performance.now();
  const result = await buildFunction({ outdir: values.outdir, minify: values.minify });
  for (const warning of await esbuild.formatMessages(result.warnings, { kind: 'warning' })) {
    process.stderr.write(warning);
  }
  const ms = Math.round(performance.now() - started);
  console.log(
    `built ${relative(process.cwd(), result.outfile)} and ${relative(process.cwd(), result.rankingOutfile)}: ${formatBytes(result.bytes)} from ${result.inputs.length} inputs in ${ms} ms`,
  );
  console.log(`external at run time: ${result.externalImports.join(', ') || '(none)'}`);
  console.log(`loaded by every cold start: ${result.entryStaticImports.join(', ') || '(none)'}`);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
