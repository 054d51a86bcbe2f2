/**
 * Bundles the Lambda entries into self-contained ESM files for the container image: the API
 * (src/function/index.ts → dist/index.mjs, the image's default CMD `index.handler`) and the ranking job's
 * map and reduce steps (src/ranking/lambda.ts → dist/ranking.mjs; template.yaml's ImageConfig.Command
 * picks `ranking.mapHandler` or `ranking.reduceHandler`). One image, three functions.
 *
 * Every @tensorflow/* package stays external: tfjs-node (installed only in the image) must register its
 * kernels on the SAME tfjs-core instance our code uses, and the wasm backend finds its .wasm binaries
 * relative to its own package folder. The image therefore ships them as real node_modules beside
 * index.mjs. Everything else, the AWS SDK included, is bundled so we run the SDK version we pinned and
 * tested rather than whichever one the Lambda runtime happens to carry.
 *
 * Usage: node scripts/build.ts [--outdir <dir>] [--minify]
 */
import { readFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');
export const ENTRY_POINT = join(PROJECT_ROOT, 'src', 'function', 'index.ts');
export const OUTPUT_FILE_NAME = 'index.mjs';
export const RANKING_ENTRY_POINT = join(PROJECT_ROOT, 'src', 'ranking', 'lambda.ts');
export const RANKING_FILE_NAME = 'ranking.mjs';
export const EXTERNAL_PACKAGES = ['@tensorflow/*'];

/**
 * In ESM output esbuild replaces a CommonJS `require()` it cannot inline with a shim that throws this at
 * run time. Today every bundled dependency is ESM (the AWS SDK, middy and Powertools all ship ESM builds),
 * so the bundle needs no `createRequire` banner, and a banner's top-level `require` could clash with a
 * bundled module's own. The build fails instead if that ever changes, rather than the function failing.
 */
const DYNAMIC_REQUIRE_SHIM = 'Dynamic require of "';

export interface BuildOptions {
  /** Folder that receives index.mjs, ranking.mjs and their source maps; default <project>/dist. */
  outdir?: string;
  entryPoint?: string;
  /**
   * Off by default: the bundle lives in a container image where a few MB do not matter, and
   * unminified code keeps CloudWatch stack traces readable even without source maps.
   */
  minify?: boolean;
}

export interface BuildResult {
  /** dist/index.mjs, the API handler. */
  outfile: string;
  /** dist/ranking.mjs, the ranking job's mapHandler and reduceHandler. */
  rankingOutfile: string;
  /** Of index.mjs. */
  bytes: number;
  /** Project-relative paths of the bundled inputs (lets callers check what was, and was not, inlined). */
  inputs: string[];
  /** Bare specifiers the bundle still imports at run time (node builtins excluded). */
  externalImports: string[];
  warnings: esbuild.Message[];
}

export function buildOptions(options: BuildOptions = {}): esbuild.BuildOptions {
  const outdir = options.outdir ?? join(PROJECT_ROOT, 'dist');
  const name = (file: string): string => file.replace(/\.mjs$/, '');
  return {
    absWorkingDir: PROJECT_ROOT,
    entryPoints: {
      [name(OUTPUT_FILE_NAME)]: options.entryPoint ?? ENTRY_POINT,
      [name(RANKING_FILE_NAME)]: RANKING_ENTRY_POINT,
    },
    outdir,
    outExtension: { '.js': '.mjs' },
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
    const entries = Object.values(config.entryPoints as Record<string, string>);
    const names = entries.map((entry) => relative(PROJECT_ROOT, entry)).join(', ');
    throw new Error(`esbuild failed to bundle ${names}:\n${messages.join('')}`, { cause: error });
  }
  const codes = await Promise.all([outfile, rankingOutfile].map((file) => readFile(file, 'utf8')));
  for (const [i, file] of [outfile, rankingOutfile].entries()) {
    if (!codes[i]?.includes(DYNAMIC_REQUIRE_SHIM)) continue;
    throw new Error(
      `${file} calls require() from a bundled CommonJS module, which throws in ESM output: make that ` +
        "package external, or add a banner defining require with node:module's createRequire",
    );
  }
  const externalImports = [outfile, rankingOutfile]
    .flatMap((file) => result.metafile.outputs[relative(PROJECT_ROOT, file)]?.imports ?? [])
    // Node built-ins resolve at run time, with or without node: (csv-parse imports 'stream').
    .filter((i) => i.external && !isBuiltin(i.path))
    .map((i) => i.path);
  return {
    outfile,
    rankingOutfile,
    bytes: Buffer.byteLength(codes[0] ?? ''),
    inputs: Object.keys(result.metafile.inputs),
    externalImports: [...new Set(externalImports)].sort(),
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
    `built ${relative(process.cwd(), result.outfile)} (${formatBytes(result.bytes)}) and ${relative(process.cwd(), result.rankingOutfile)} from ${result.inputs.length} inputs in ${ms} ms`,
  );
  console.log(`external at run time: ${result.externalImports.join(', ') || '(none)'}`);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
