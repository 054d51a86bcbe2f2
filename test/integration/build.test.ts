/**
 * The esbuild bundle as the image runs it: index.mjs in a folder beside node_modules (like /var/task),
 * imported for real, answering real API Gateway events with a tiny real model. Also runs
 * scripts/smoke.ts on it the way the Dockerfile does, and checks it fails when it should.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type BuildResult, buildFunction, PROJECT_ROOT } from '../../scripts/build.ts';
import { publishBundle } from '../../src/bundle/publish.ts';
import { createLocalContext } from '../../src/local/server.ts';
import { startS3rver } from '../helpers/s3rver.ts';
import { makeTinyBundle, writeBundleDir } from '../helpers/tiny-bundle.ts';

const SMOKE = join(PROJECT_ROOT, 'scripts', 'smoke.ts');
const PREDICTIONS_EVENT = join(PROJECT_ROOT, 'events', 'predictions-4-reviews.json');
const HEALTH_EVENT = join(PROJECT_ROOT, 'events', 'health.json');
const FEEDBACK_EVENT = join(PROJECT_ROOT, 'events', 'feedback-ok.json');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runNode(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('esbuild bundle of the Lambda entry', () => {
  let taskRoot = '';
  let modelRoot = '';
  let build: BuildResult;

  before(async () => {
    taskRoot = await mkdtemp(join(tmpdir(), 'review-sentiment-task-'));
    // The image's layout: index.mjs beside node_modules, so the external @tensorflow/* resolve.
    await symlink(join(PROJECT_ROOT, 'node_modules'), join(taskRoot, 'node_modules'), 'dir');
    modelRoot = join(taskRoot, 'models', 'review-sentiment');
    await mkdir(modelRoot, { recursive: true });
    await writeBundleDir(modelRoot, (await makeTinyBundle()).files, 'v1', { latest: true });
    build = await buildFunction({ outdir: taskRoot });
  });

  after(async () => {
    if (taskRoot) await rm(taskRoot, { recursive: true, force: true });
  });

  test('writes ESM with source maps; externals are exactly package.json dependencies; the AWS SDK is inlined', async () => {
    assert.equal(build.outfile, join(taskRoot, 'index.mjs'));
    assert.ok(existsSync(`${build.outfile}.map`), 'no source map');
    assert.ok(build.bytes > 0);
    // The runtime image installs `dependencies` (npm ci --omit=dev) and nothing else: they must be what
    // the bundle imports, no more (a second copy of something bundled) and no less (a missing module).
    const pkg = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    assert.deepEqual(build.externalImports, Object.keys(pkg.dependencies).sort());
    assert.deepEqual(
      build.inputs.filter((input) => input.includes('node_modules/@tensorflow/')),
      [],
      'a TensorFlow.js package was bundled: tfjs-node would register on a different copy',
    );
    assert.ok(build.inputs.some((input) => input.includes('node_modules/@aws-sdk/client-s3/')));
    assert.ok(build.inputs.includes('src/function/index.ts'));
    // TensorFlow.js and ONNX Runtime are loaded on demand (dynamic imports into chunks), never by index.mjs.
    assert.deepEqual(build.entryStaticImports, []);
    assert.ok(
      build.outputs.some((o) => /chunks\/tfjs-runtime-\w+\.mjs$/.test(o)),
      build.outputs.join(', '),
    );
    const code = await readFile(build.outfile, 'utf8');
    assert.match(code, /^export\s*\{[^}]*\bhandler\b/m);
  });

  test('node:http reaches the bundle through require(), never an ESM import (whose facade loads undici)', async () => {
    const imports = /(?:from|import)\s*\(?\s*["'](?:node:)?http["']/;
    const facades: string[] = [];
    for (const output of build.outputs) {
      const code = await readFile(output, 'utf8');
      assert.doesNotMatch(code, imports, `${output} imports node:http as ESM`);
      if (code.includes(`createRequire(import.meta.url)("node:http")`)) facades.push(output);
    }
    assert.equal(facades.length, 1, 'the AWS SDK still gets node:http, from one shared facade');
  });

  test('ranking.mjs beside it exports the map and reduce handlers ImageConfig.Command names', async () => {
    assert.equal(build.rankingOutfile, join(taskRoot, 'ranking.mjs'));
    assert.ok(existsSync(`${build.rankingOutfile}.map`), 'no source map');
    const ranking = (await import(pathToFileURL(build.rankingOutfile).href)) as Record<string, unknown>;
    assert.equal(typeof ranking.mapHandler, 'function');
    assert.equal(typeof ranking.reduceHandler, 'function');
    // Importing it starts nothing (no model load, no client) until a handler runs.
    const reduce = ranking.reduceHandler as (event: unknown) => Promise<unknown>;
    await assert.rejects(reduce({}), /needs \{"partials"/);
  });

  test('the bundle imports and its handler answers GET /health (payload 2.0) with the model loaded', async () => {
    process.env.MODEL_URI = modelRoot;
    process.env.LOG_LEVEL = 'WARN';
    const { handler } = (await import(pathToFileURL(build.outfile).href)) as {
      handler: (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>;
    };
    const event: unknown = JSON.parse(await readFile(HEALTH_EVENT, 'utf8'));
    const result = await handler(event, createLocalContext());
    assert.equal(result.statusCode, 200, result.body);
    const body = JSON.parse(result.body) as {
      status: string;
      model: { version: string } | null;
      runtime: string;
      backend: string | null;
    };
    assert.equal(body.status, 'ready');
    assert.equal(body.model?.version, 'v1');
    assert.equal(body.runtime, 'onnx', 'the tiny bundle carries model.onnx');
    assert.equal(body.backend, null);
  });

  test('serving with ONNX Runtime never loads TensorFlow.js; RUNTIME=tfjs does', async () => {
    // A child records every module it loads (module.registerHooks), imports the bundle and invokes it.
    const probe = `
      import { registerHooks } from 'node:module';
      import { readFile } from 'node:fs/promises';
      const loaded = new Set();
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.add(r.url); return r; } });
      const { handler } = await import(process.argv[1]);
      const event = JSON.parse(await readFile(process.argv[2], 'utf8'));
      const result = await handler(event, { awsRequestId: 'probe', getRemainingTimeInMillis: () => 29000 });
      const tf = [...loaded].filter((u) => u.includes('/@tensorflow/')).length;
      const ort = [...loaded].filter((u) => u.includes('/onnxruntime-node/')).length;
      console.log(JSON.stringify({ status: result.statusCode, tf, ort, runtime: JSON.parse(result.body).model ? 'ok' : '' }));
      process.exit(0);
    `;
    const run = async (runtime: string) => {
      const result = await runNode(
        ['--input-type=module', '-e', probe, pathToFileURL(build.outfile).href, PREDICTIONS_EVENT],
        {
          MODEL_URI: modelRoot,
          RUNTIME: runtime,
          LOG_LEVEL: 'WARN',
        },
      );
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as {
        status: number;
        tf: number;
        ort: number;
      };
    };
    const onnx = await run('auto');
    assert.equal(onnx.status, 200);
    assert.equal(onnx.tf, 0, 'a @tensorflow module was loaded while serving on ONNX Runtime');
    assert.ok(onnx.ort > 0);
    const tfjs = await run('tfjs');
    assert.equal(tfjs.status, 200);
    assert.ok(tfjs.tf > 0, 'the probe sees tfjs when it is used (so the check above can fail)');
    assert.equal(tfjs.ort, 0);
  });

  test('a cold start from S3 with Lambda-style credentials never loads the AWS SDK; a write does', async () => {
    const sdkChunks: string[] = [];
    for (const output of build.outputs) {
      if ((await readFile(output, 'utf8')).includes('var S3Client = class')) sdkChunks.push(output);
    }
    assert.equal(sdkChunks.length, 1, 'one chunk holds the SDK client');
    const s3 = await startS3rver();
    try {
      const files = (await makeTinyBundle()).files;
      await publishBundle(files, `s3://${s3.bucket}/models/review-sentiment/`, {
        storage: s3.storage,
      });
      // Records every module it resolves while it answers each event file it is given, in order.
      const probe = `
        import { registerHooks } from 'node:module';
        import { readFile } from 'node:fs/promises';
        const loaded = new Set();
        registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.add(r.url); return r; } });
        const { handler } = await import(process.argv[1]);
        const context = { awsRequestId: 'probe', getRemainingTimeInMillis: () => 29000 };
        const status = [];
        for (const file of process.argv.slice(2)) { const r = await handler(JSON.parse(await readFile(file, "utf8")), context); status.push(r.statusCode); if (r.statusCode >= 400) console.error(r.body); }
        console.log(JSON.stringify({ status, loaded: [...loaded] }));
        process.exit(0);
      `;
      const run = async (events: string[]) => {
        const result = await runNode(
          ['--input-type=module', '-e', probe, pathToFileURL(build.outfile).href, ...events],
          {
            MODEL_URI: `s3://${s3.bucket}/models/review-sentiment/`,
            FEEDBACK_URI: `s3://${s3.bucket}/feedback/`,
            AWS_ENDPOINT_URL_S3: s3.endpoint,
            AWS_ACCESS_KEY_ID: 'S3RVER',
            AWS_SECRET_ACCESS_KEY: 'S3RVER',
            AWS_REGION: 'us-east-1',
            LOG_LEVEL: 'WARN',
          },
        );
        assert.equal(result.code, 0, result.stderr);
        const out = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as {
          status: number[];
          loaded: string[];
        };
        const sdk = out.loaded.filter((url) =>
          sdkChunks.some((chunk) => url.endsWith(chunk.split('/').pop() ?? '')),
        );
        return { status: out.status, sdk: sdk.length, stderr: result.stderr };
      };
      const read = await run([PREDICTIONS_EVENT]);
      assert.deepEqual({ status: read.status, sdk: read.sdk }, { status: [200], sdk: 0 }, read.stderr);
      const write = await run([PREDICTIONS_EVENT, FEEDBACK_EVENT]);
      assert.deepEqual(
        { status: write.status, sdk: write.sdk },
        { status: [200, 202], sdk: 1 },
        write.stderr,
      );
    } finally {
      await s3.stop();
    }
  });

  test('scripts/smoke.ts passes on the bundle with the 4-review event', async () => {
    const run = await runNode(
      [SMOKE, '--bundle', build.outfile, '--event', PREDICTIONS_EVENT, '--expect-predictions', '4'],
      {
        MODEL_URI: modelRoot,
      },
    );
    assert.equal(run.code, 0, run.stderr);
    const line = run.stdout.split('\n').find((l) => l.startsWith('smoke test passed: '));
    assert.ok(line, run.stdout);
    const report = JSON.parse(line.slice('smoke test passed: '.length)) as {
      predictions: number;
      runtime: string;
    };
    assert.equal(report.predictions, 4);
    assert.equal(report.runtime, 'onnx');
  });

  test('scripts/smoke.ts exits non-zero on the wrong backend, count or model', async () => {
    const base = [SMOKE, '--bundle', build.outfile, '--event', PREDICTIONS_EVENT];
    const cases = [
      {
        args: [...base, '--expect-runtime', 'tfjs'],
        env: { MODEL_URI: modelRoot },
        why: /runs on runtime onnx, expected tfjs/,
      },
      {
        args: [...base, '--expect-backend', 'no-such-backend'],
        env: { MODEL_URI: modelRoot },
        why: /expected no-such-backend/,
      },
      {
        args: [...base, '--expect-predictions', '5'],
        env: { MODEL_URI: modelRoot },
        why: /expected 5 predictions, got 4/,
      },
      {
        args: base,
        env: { MODEL_URI: join(taskRoot, 'no-model-here') },
        why: /POST \/predictions answered 503/,
      },
    ];
    const runs = await Promise.all(cases.map((c) => runNode(c.args, c.env)));
    runs.forEach((run, i) => {
      assert.equal(run.code, 1, `case ${i}: ${run.stdout}`);
      assert.match(run.stderr, cases[i]?.why ?? /./);
    });
  });
});
