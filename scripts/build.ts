/**
 * Bundles the Lambda entry (src/function/index.ts) into one ESM file, dist/index.mjs, for the container image.
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
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');
export const ENTRY_POINT = join(PROJECT_ROOT, 'src', 'function', 'index.ts');
export const OUTPUT_FILE_NAME = 'index.mjs';
export const EXTERNAL_PACKAGES = ['@tensorflow/*'];

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
  bytes: number;
  /** Project-relative paths of the bundled inputs (lets callers check what was, and was not, inlined). */
  inputs: string[];
  /** Bare specifiers the bundle still imports at run time (node builtins excluded). */
  externalImports: string[];
  warnings: esbuild.Message[];
}

export function buildOptions(options: BuildOptions = {}): esbuild.BuildOptions {
  const outdir = options.outdir ?? join(PROJECT_ROOT, 'dist');
  return {
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [options.entryPoint ?? ENTRY_POINT],
    outfile: join(outdir, OUTPUT_FILE_NAME),
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
  const outfile = String(config.outfile);
  let result: esbuild.BuildResult<{ metafile: true }>;
  try {
    result = (await esbuild.build(config)) as esbuild.BuildResult<{ metafile: true }>;
  } catch (error) {
    const messages = await esbuild.formatMessages((error as esbuild.BuildFailure).errors ?? [], {
      kind: 'error',
    });
    const entry = relative(PROJECT_ROOT, String(config.entryPoints));
    throw new Error(`esbuild failed to bundle ${entry}:\n${messages.join('')}`, { cause: error });
  }
  const code = await readFile(outfile, 'utf8');
  if (code.includes(DYNAMIC_REQUIRE_SHIM)) {
    throw new Error(
      `${outfile} calls require() from a bundled CommonJS module, which throws in ESM output: make that ` +
        "package external, or add a banner defining require with node:module's createRequire",
    );
  }
  const output = result.metafile.outputs[relative(PROJECT_ROOT, outfile)];
  const externalImports = (output?.imports ?? [])
    .filter((i) => i.external && !i.path.startsWith('node:'))
    .map((i) => i.path);
  return {
    outfile,
    bytes: Buffer.byteLength(code),
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
    `built ${relative(process.cwd(), result.outfile)}: ${formatBytes(result.bytes)} from ${result.inputs.length} inputs in ${ms} ms`,
  );
  console.log(`external at run time: ${result.externalImports.join(', ') || '(none)'}`);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
