/**
 * No Docker engine here, so the Dockerfile is checked by parsing it: the stage layout, the order that
 * makes layer caching work, the runtime stage's install (only the bundle's externals, from the lockfile,
 * ONNX Runtime for linux-x64 only, no TensorFlow native library), the smoke tests, the handler, and that
 * every file it copies exists and is not excluded from the build context.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { OUTPUT_FILE_NAME } from '../../scripts/build.ts';
import { runtimeInstall } from '../../scripts/runtime-deps-size.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const TASK_ROOT = '/var/task';
const LAMBDA_NODE_IMAGE = 'public.ecr.aws/lambda/nodejs:24';

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name: string | undefined;
  platform: string | undefined;
  instructions: Instruction[];
}

/** Joins continuation lines (trailing "\"), drops comments and blank lines, uppercases keywords. */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending: { parts: string[]; line: number } | null = null;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === null)) return;
    const continued = line.endsWith('\\');
    const part = continued ? line.slice(0, -1).trim() : line;
    pending ??= { parts: [], line: index + 1 };
    pending.parts.push(part);
    if (continued) return;
    const joined = pending.parts.filter((p) => p !== '').join(' ');
    const [keyword = '', ...rest] = joined.split(/\s+/);
    instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), line: pending.line });
    pending = null;
  });
  assert.equal(pending, null, 'the Dockerfile ends inside a continued instruction');
  return instructions;
}

function stagesOf(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const platform = /--platform=(\S+)/.exec(instruction.args)?.[1];
      const words = instruction.args
        .replace(/--platform=\S+/, '')
        .trim()
        .split(/\s+/);
      const asIndex = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({
        image: words[0] ?? '',
        name: asIndex >= 0 ? words[asIndex + 1] : undefined,
        platform,
        instructions: [],
      });
    } else {
      const current = stages.at(-1);
      assert.ok(current, `line ${instruction.line}: ${instruction.keyword} before the first FROM`);
      current.instructions.push(instruction);
    }
  }
  return stages;
}

/** Index of the first instruction matching, or -1. */
function indexOf(stage: Stage, keyword: string, pattern: RegExp): number {
  return stage.instructions.findIndex((i) => i.keyword === keyword && pattern.test(i.args));
}

function mustFind(stage: Stage, keyword: string, pattern: RegExp): number {
  const index = indexOf(stage, keyword, pattern);
  assert.ok(index >= 0, `stage ${stage.name}: no ${keyword} matching ${pattern}`);
  return index;
}

/** COPY/ADD sources from the build context (not --from another stage), without flags. */
function contextSources(stage: Stage): string[] {
  return stage.instructions
    .filter((i) => (i.keyword === 'COPY' || i.keyword === 'ADD') && !/--from=/.test(i.args))
    .flatMap((i) => {
      const words = i.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      return words.slice(0, -1);
    });
}

// .dockerignore with Docker's semantics: a pattern excludes a path when it matches the path or any of its
// parent directories; the last matching pattern wins and "!" re-includes.
interface IgnoreRule {
  negate: boolean;
  regex: RegExp;
}

function parseDockerignore(text: string): IgnoreRule[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).trim().replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, regex: globToRegex(pattern) };
    });
}

function globToRegex(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

function isIgnored(rules: IgnoreRule[], path: string): boolean {
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (candidates.some((c) => rule.regex.test(c))) ignored = !rule.negate;
  }
  return ignored;
}

function filesUnder(path: string): string[] {
  const full = join(ROOT, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .map((entry) => join(path, entry))
    .filter((p) => statSync(join(ROOT, p)).isFile());
}

const instructions = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const stages = stagesOf(instructions);
const builder = stages.find((s) => s.name === 'builder');
const runtime = stages.at(-1);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  /** Needed only by dev and optional packages: omitted when both are. */
  devOptional?: boolean;
  hasInstallScript?: boolean;
}
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>;
};

/** Package names an `npm install`/`npm i` in a RUN installs by name (outside the lockfile), if any. */
function namedInstalls(run: string): string[] {
  return [...run.matchAll(/npm (?:install|i|add)\b([^&;|]*)/g)].flatMap((m) =>
    (m[1] ?? '').split(/\s+/).filter((w) => w !== '' && !w.startsWith('-')),
  );
}

describe('Dockerfile parsing', () => {
  test('joins continued lines and skips comments', () => {
    const parsed = parseDockerfile('# c\nFROM a AS b\nRUN x \\\n  # inner comment\n  && y\n\nCMD ["h"]\n');
    assert.deepEqual(
      parsed.map((i) => [i.keyword, i.args]),
      [
        ['FROM', 'a AS b'],
        ['RUN', 'x && y'],
        ['CMD', '["h"]'],
      ],
    );
  });

  test('dockerignore rules follow Docker: parents count, the last match wins', () => {
    const rules = parseDockerignore('*\n!src/\n!scripts/build.ts\nsrc/**/*.test.ts\n');
    assert.equal(isIgnored(rules, 'node_modules/x/index.js'), true);
    assert.equal(isIgnored(rules, 'src/storage/s3.ts'), false);
    assert.equal(isIgnored(rules, 'src/storage/s3.test.ts'), true);
    assert.equal(isIgnored(rules, 'scripts/build.ts'), false);
    assert.equal(isIgnored(rules, 'scripts/other.ts'), true);
  });
});

describe('Dockerfile', () => {
  test('has a builder stage and a runtime stage on the Lambda Node.js 24 image', () => {
    assert.equal(stages.length, 2);
    assert.ok(builder, 'no stage named builder');
    assert.notEqual(runtime, builder);
    assert.equal(runtime?.image, LAMBDA_NODE_IMAGE);
    // ONNX Runtime's kept library and the template's Architectures are x86_64.
    assert.equal(runtime?.platform, 'linux/amd64');
  });

  test('builder installs from the lockfile before copying the code, then bundles', () => {
    assert.ok(builder);
    const lockfile = mustFind(builder, 'COPY', /package-lock\.json/);
    const install = mustFind(builder, 'RUN', /\bnpm ci\b/);
    const sources = mustFind(builder, 'COPY', /^src\/?\s/);
    const build = mustFind(builder, 'RUN', /npm run build|scripts\/build\.ts/);
    assert.ok(
      lockfile < install && install < sources && sources < build,
      'order: lockfile, npm ci, src, build',
    );
  });

  test('runtime installs only package.json dependencies, from the lockfile, without scripts', () => {
    assert.ok(runtime);
    const index = mustFind(runtime, 'RUN', /\bnpm ci\b/);
    const run = runtime.instructions[index]?.args ?? '';
    for (const flag of ['--omit=dev', '--omit=optional', '--ignore-scripts'])
      assert.ok(run.includes(flag), flag);
    const runs = runtime.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    assert.deepEqual(runs.flatMap(namedInstalls), [], 'every package comes from the lockfile (npm ci)');
    // What npm ci --omit=dev --omit=optional installs: dependencies and what they need, nothing else.
    assert.deepEqual(Object.keys(pkg.dependencies).sort(), [
      '@tensorflow/tfjs-backend-cpu',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-layers',
      'onnxruntime-node',
    ]);
    const installed = Object.entries(lock.packages).filter(
      ([path, e]) => path.startsWith('node_modules/') && !e.dev && !e.optional && !e.devOptional,
    );
    const names = installed.map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 13));
    for (const unwanted of [
      '@tensorflow/tfjs',
      '@tensorflow/tfjs-node',
      '@tensorflow/tfjs-node-gpu',
      '@tensorflow/tfjs-converter',
      '@tensorflow/tfjs-backend-webgl',
      'csv-parse',
      'protobufjs',
      '@aws-sdk/client-s3',
      '@middy/core',
      '@aws-lambda-powertools/logger',
    ]) {
      assert.ok(!names.includes(unwanted), `${unwanted} would be installed in the runtime image`);
    }
  });

  test("npm run image:size reproduces exactly the runtime stage's install command", () => {
    assert.ok(runtime);
    const run = runtime.instructions[mustFind(runtime, 'RUN', /\bnpm ci\b/)]?.args ?? '';
    assert.equal(runtimeInstall(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')), run.replace(/\s+/g, ' '));
  });

  test('runtime keeps ONNX Runtime for linux-x64 only: other platforms are pruned in the install layer', () => {
    assert.ok(runtime);
    const run = runtime.instructions[mustFind(runtime, 'RUN', /\bnpm ci\b/)]?.args ?? '';
    const removed = [...run.matchAll(/node_modules\/onnxruntime-node\/bin\/napi-v\*\/(\S+)/g)].map(
      (m) => m[1],
    );
    assert.deepEqual(removed.sort(), ['darwin', 'linux/arm64', 'win32']);
    // In the same RUN as the install: a later layer could not shrink the one that added them.
    assert.ok(run.indexOf('npm ci') < run.indexOf('rm -rf node_modules/onnxruntime-node'));
    // Every platform folder the package ships, other than linux/x64, is among the pruned ones.
    const bin = join(ROOT, 'node_modules', 'onnxruntime-node', 'bin');
    if (existsSync(bin)) {
      for (const napi of readdirSync(bin)) {
        for (const os of readdirSync(join(bin, napi))) {
          for (const arch of readdirSync(join(bin, napi, os))) {
            const kept = `${os}/${arch}` === 'linux/x64';
            assert.equal(
              kept || removed.includes(os) || removed.includes(`${os}/${arch}`),
              true,
              `${napi}/${os}/${arch} would stay in the image`,
            );
          }
        }
      }
    }
    assert.doesNotMatch(
      runtime.instructions.map((i) => i.args).join('\n'),
      /tfjs-node|libtensorflow|cuda/i,
      'no TensorFlow native library or CUDA in the Lambda image',
    );
  });

  test('runtime ships the bundle and the default model, smoke-tests them on ORT and the wasm fallback, then sets the handler', () => {
    assert.ok(runtime);
    assert.match(
      runtime.instructions.find((i) => i.keyword === 'WORKDIR')?.args ?? '',
      /\$\{LAMBDA_TASK_ROOT\}|\/var\/task/,
    );
    const bundle = mustFind(runtime, 'COPY', /--from=builder\s+\S*dist\/?\s+\.\/?$/);
    const models = mustFind(runtime, 'COPY', /^models\/?\s/);
    const install = mustFind(runtime, 'RUN', /\bnpm ci\b/);
    const smoke = mustFind(runtime, 'RUN', /smoke\.m?ts/);
    assert.ok(
      bundle < smoke && models < smoke && install < smoke,
      'the smoke test must run on the finished image',
    );
    const args = runtime.instructions[smoke]?.args ?? '';
    assert.match(args, /MODEL_URI="?(\$\{LAMBDA_TASK_ROOT\}|\/var\/task)\/models\/review-sentiment\/?"?/);
    assert.match(
      args,
      new RegExp(`--bundle "?(\\$\\{LAMBDA_TASK_ROOT\\}|${TASK_ROOT})/${OUTPUT_FILE_NAME}"?`),
    );
    assert.match(args, /--event \S*predictions-4-reviews\.json/);
    assert.match(args, /--expect-predictions 4\b/);
    assert.match(args, /RUNTIME=auto\b[^&]*--expect-runtime onnx\b/);
    assert.match(args, /RUNTIME=tfjs\b[^&]*--expect-runtime tfjs\b[^&]*--expect-backend wasm\b/);
    // Both smoke runs in one RUN joined by &&: a failing first run fails the build.
    assert.equal(args.split('smoke.mts').length - 1, 2);
    assert.match(args, /&&/);
    const last = runtime.instructions.at(-1);
    assert.equal(last?.keyword, 'CMD');
    const handlerFile = OUTPUT_FILE_NAME.replace(/\.m?js$/, '');
    assert.deepEqual(JSON.parse(last?.args ?? ''), [`${handlerFile}.handler`]);
  });

  test('every file copied from the context exists and is not excluded by .dockerignore', () => {
    const rules = parseDockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
    const sources = stages.flatMap(contextSources);
    assert.ok(sources.length > 0);
    for (const source of sources) {
      const hint = source.startsWith('models')
        ? ' (the default bundle: npm run train -- --out models/review-sentiment)'
        : '';
      assert.ok(existsSync(join(ROOT, source)), `COPY source ${source} does not exist${hint}`);
      for (const file of filesUnder(source)) {
        assert.equal(
          isIgnored(rules, relative(ROOT, join(ROOT, file))),
          false,
          `${file} is excluded by .dockerignore`,
        );
      }
    }
  });

  test('.dockerignore keeps dependencies, builds, git and tests out of the context', () => {
    const rules = parseDockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
    for (const path of [
      'node_modules/yaml/package.json',
      'dist/index.mjs',
      '.git/HEAD',
      'test/unit/x.test.ts',
      '.aws-sam/build',
    ]) {
      assert.equal(isIgnored(rules, path), true, `${path} would be sent to the Docker daemon`);
    }
  });
});

describe('training/Dockerfile (GPU training image)', () => {
  const trainingStages = stagesOf(
    parseDockerfile(readFileSync(join(ROOT, 'training', 'Dockerfile'), 'utf8')),
  );
  const image = trainingStages.at(-1);
  const tfjsVersion = pkg.devDependencies['@tensorflow/tfjs'];

  test('runs on a CUDA 11 + cuDNN 8 runtime (what libtensorflow 2.9.1 GPU links against)', () => {
    assert.match(image?.image ?? '', /^nvidia\/cuda:11\.\d+\.\d+-cudnn8-runtime-ubuntu/);
  });

  test('installs tfjs-node-gpu from the lockfile at our tfjs version and runs its GPU install script', () => {
    assert.ok(image);
    const run = image.instructions[mustFind(image, 'RUN', /\bnpm ci\b/)]?.args ?? '';
    assert.match(run, /--ignore-scripts/);
    assert.doesNotMatch(run, /--omit=optional/);
    assert.ok(run.indexOf('npm ci') < run.indexOf('scripts/install.js gpu download'));
    const runs = image.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    assert.deepEqual(runs.flatMap(namedInstalls), [], 'every package comes from the lockfile (npm ci)');
    // The lockfile records it at an exact version, as an optional dependency (its script never runs here).
    assert.equal(pkg.optionalDependencies?.['@tensorflow/tfjs-node-gpu'], tfjsVersion);
    const entry = lock.packages['node_modules/@tensorflow/tfjs-node-gpu'];
    assert.equal(entry?.version, tfjsVersion);
    assert.equal(entry?.hasInstallScript, true);
  });

  test('runs the training CLI from the same sources the function is built from', () => {
    assert.ok(image);
    const entry = image.instructions.find((i) => i.keyword === 'ENTRYPOINT');
    assert.deepEqual(JSON.parse(entry?.args ?? '[]'), ['node', 'training/cli.ts']);
    const rules = parseDockerignore(readFileSync(join(ROOT, 'training', 'Dockerfile.dockerignore'), 'utf8'));
    for (const source of contextSources(image)) {
      assert.ok(existsSync(join(ROOT, source)), `COPY source ${source} does not exist`);
      for (const file of filesUnder(source))
        assert.equal(isIgnored(rules, file), false, `${file} is excluded`);
    }
    assert.deepEqual(contextSources(image).sort(), [
      'package-lock.json',
      'package.json',
      'src/',
      'training/',
    ]);
  });
});
