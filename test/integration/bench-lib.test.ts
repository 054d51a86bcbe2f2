/**
 * The generic benchmark helpers in bench/lib/: statistics, timing, closed-loop load, the HTTP client,
 * child processes and input texts. Real servers and real child processes, all on this machine.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runChild, startChild } from '../../bench/lib/child.ts';
import { httpRequest, keepAliveAgent } from '../../bench/lib/http.ts';
import { closedLoop } from '../../bench/lib/load.ts';
import { machineInfo } from '../../bench/lib/machine.ts';
import { rssMiB } from '../../bench/lib/rss.ts';
import { median, percentile, round, speedup, summarize } from '../../bench/lib/stats.ts';
import { generateTexts, pickSpread, textsOfLength, wordCount } from '../../bench/lib/texts.ts';
import { timeIterations } from '../../bench/lib/timing.ts';

/** At least `ms` by performance.now(): a timer alone may fire early against a stale loop clock. */
async function waitAtLeast(ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) await sleep(1);
}

describe('stats', () => {
  test('percentile interpolates between the closest ranks (numpy default)', () => {
    const values = [15, 20, 35, 40, 50];
    assert.equal(percentile(values, 0), 15);
    assert.equal(percentile(values, 100), 50);
    assert.equal(percentile(values, 50), 35);
    // rank 0.4 * 4 = 1.6: 20 + 0.6 * (35 - 20)
    assert.equal(round(percentile(values, 40), 9), 29);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(percentile([7], 99), 7);
  });

  test('input order does not matter and the input is not reordered', () => {
    const values = [9, 1, 5, 3, 7];
    assert.equal(percentile(values, 50), 5);
    assert.deepEqual(values, [9, 1, 5, 3, 7]);
  });

  test('p99 of 1..100 lies between the two largest samples', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(round(percentile(values, 99), 9), 99.01);
  });

  test('bad input fails naming what is wrong', () => {
    assert.throws(() => percentile([], 50), /no samples/);
    assert.throws(() => percentile([1, 2], 101), /p must be 0-100, got 101/);
    assert.throws(() => percentile([1, 2], Number.NaN), /p must be 0-100/);
    assert.throws(() => percentile([1, Number.NaN], 50), /sample 1 is NaN/);
    assert.throws(() => summarize([]), /summarize: no samples/);
  });

  test('summarize reports count, percentiles, mean and extremes, rounded', () => {
    const summary = summarize([1.23456, 2, 3, 4, 10], 2);
    assert.deepEqual(summary, { n: 5, p50Ms: 3, p99Ms: 9.76, meanMs: 4.05, minMs: 1.23, maxMs: 10 });
  });

  test('speedup is reference over measured and refuses non-positive durations', () => {
    assert.equal(speedup(60, 20), 3);
    assert.equal(speedup(10, 3), 3.33);
    assert.throws(() => speedup(10, 0), /durations must be positive/);
  });
});

describe('timeIterations', () => {
  test('warm-up runs are not recorded; setup is outside the timed span', async () => {
    let runs = 0;
    const samples = await timeIterations({
      warmup: 3,
      iterations: 4,
      setup: () => {
        const until = performance.now() + 30;
        while (performance.now() < until);
        return 'input';
      },
      run: (input: string) => {
        assert.equal(input, 'input');
        runs++;
      },
    });
    assert.equal(runs, 7);
    assert.equal(samples.length, 4);
    assert.ok(
      samples.every((ms) => ms < 25),
      `setup leaked into the samples: ${samples}`,
    );
  });

  test('awaits a promise result inside the span', async () => {
    const samples = await timeIterations({ warmup: 0, iterations: 2, run: () => waitAtLeast(20) });
    assert.ok(
      samples.every((ms) => ms >= 20),
      `samples ${samples}`,
    );
  });

  test('a budget stops early, but not before minIterations', async () => {
    const samples = await timeIterations({
      warmup: 0,
      iterations: 100,
      budgetMs: 1,
      minIterations: 3,
      run: () => sleep(5),
    });
    assert.equal(samples.length, 3);
  });

  test('bad counts are refused; a failing run rejects', async () => {
    await assert.rejects(timeIterations({ warmup: -1, iterations: 1, run: () => 0 }), /warmup must be/);
    await assert.rejects(timeIterations({ warmup: 0, iterations: 0, run: () => 0 }), /iterations must be/);
    await assert.rejects(
      timeIterations({
        warmup: 0,
        iterations: 1,
        run: () => {
          throw new Error('boom');
        },
      }),
      /boom/,
    );
  });
});

describe('closedLoop', () => {
  test('sends exactly `requests`, never more than `concurrency` at once, and reaches it', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    const result = await closedLoop(
      async (index) => {
        seen.push(index);
        inFlight++;
        peak = Math.max(peak, inFlight);
        await waitAtLeast(2);
        inFlight--;
      },
      { requests: 50, concurrency: 4 },
    );
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.equal(peak, 4);
    assert.equal(result.latenciesMs.length, 50);
    assert.ok(result.latenciesMs.every((ms) => ms >= 2));
    // 50 requests of >= 2 ms through 4 clients: at least 13 rounds.
    assert.ok(result.elapsedMs >= 24, `elapsed ${result.elapsedMs}`);
    assert.equal(round(result.requestsPerSec, 6), round((50 * 1000) / result.elapsedMs, 6));
  });

  test('the first failure rejects and stops the other clients from starting new requests', async () => {
    let started = 0;
    const send = async (index: number) => {
      started++;
      await sleep(1);
      if (index === 3) throw new Error('request 3 failed');
    };
    await assert.rejects(closedLoop(send, { requests: 1000, concurrency: 2 }), /request 3 failed/);
    await sleep(20);
    assert.ok(started < 10, `started ${started}`);
  });

  test('bad options are refused', async () => {
    await assert.rejects(
      closedLoop(async () => {}, { requests: 0, concurrency: 1 }),
      /requests must be/,
    );
    await assert.rejects(
      closedLoop(async () => {}, { requests: 1, concurrency: 1.5 }),
      /concurrency must be/,
    );
  });
});

describe('httpRequest', () => {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/stall') return;
      const body = Buffer.concat(chunks).toString('utf8');
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          method: req.method,
          body,
          type: req.headers['content-type'],
          port: req.socket.remotePort,
        }),
      );
    });
  });
  let url: string;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('sends method, headers and a UTF-8 body; returns status and body', async () => {
    const response = await httpRequest(`${url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '["très bien"]',
    });
    assert.equal(response.status, 200);
    const echoed = JSON.parse(response.body) as { method: string; body: string; type: string };
    assert.deepEqual(
      [echoed.method, echoed.body, echoed.type],
      ['POST', '["très bien"]', 'application/json'],
    );
    assert.equal((await httpRequest(`${url}/missing`)).status, 404);
  });

  test('a keep-alive agent reuses one connection for sequential requests', async () => {
    const agent = keepAliveAgent(1);
    try {
      const ports = new Set<number>();
      for (let i = 0; i < 3; i++) {
        ports.add((JSON.parse((await httpRequest(url, { agent })).body) as { port: number }).port);
      }
      assert.equal(ports.size, 1);
    } finally {
      agent.destroy();
    }
  });

  test('no answer within timeoutMs rejects; so does a refused connection', async () => {
    await assert.rejects(httpRequest(`${url}/stall`, { timeoutMs: 50 }), /no answer in 50 ms/);
    await assert.rejects(httpRequest('http://127.0.0.1:1/'), /ECONNREFUSED/);
  });
});

describe('child processes', () => {
  const node = process.execPath;

  test('waitForLine resolves at a complete matching line, timed from spawn', async () => {
    // The line arrives in two writes: the half line must not match on its own.
    const script = `process.stdout.write('ready on ht'); setTimeout(() => console.log('tp://x:42'), 150); setTimeout(() => {}, 5000);`;
    const child = startChild(node, ['-e', script]);
    try {
      const { match, ms } = await child.waitForLine(/ready on (\S+)/);
      assert.equal(match[1], 'http://x:42');
      assert.ok(ms >= 150, `ms ${ms}`);
    } finally {
      await child.stop();
    }
    assert.equal((await child.exited).signal, 'SIGTERM');
  });

  test('waitForLine fails with the exit status and stderr when the child exits first, or on timeout', async () => {
    const dying = startChild(node, ['-e', 'console.error("cannot start: no model"); process.exit(3)']);
    await assert.rejects(dying.waitForLine(/listening/), /exited \(code 3\).*cannot start: no model/s);
    const silent = startChild(node, ['-e', 'setTimeout(() => {}, 5000)']);
    try {
      await assert.rejects(
        silent.waitForLine(/listening/, { timeoutMs: 100 }),
        /no line matching .* in 100 ms/,
      );
    } finally {
      await silent.stop();
    }
  });

  test('stop() escalates to SIGKILL when the child ignores SIGTERM', async () => {
    const stubborn = startChild(node, [
      '-e',
      `process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000);`,
    ]);
    await stubborn.waitForLine(/up/);
    await stubborn.stop('SIGTERM', 200);
    assert.equal((await stubborn.exited).signal, 'SIGKILL');
  });

  test('output is kept up to a bound, newest lines last', async () => {
    const script = `for (let i = 0; i < 30000; i++) console.log(String(i).padStart(64, '.'));`;
    const run = await runChild(node, ['-e', script]);
    assert.ok(run.stdout.length <= 2 ** 20, `kept ${run.stdout.length} characters`);
    assert.ok(run.stdout.length > 2 ** 19, `kept ${run.stdout.length} characters`);
    assert.ok(run.stdout.endsWith(`${'29999'.padStart(64, '.')}\n`));
    assert.ok(!run.stdout.includes(`${'0'.padStart(64, '.')}\n`));
  });

  test('runChild reports exit code, output and wall time', async () => {
    const run = await runChild(
      node,
      ['-e', 'setTimeout(() => { console.log("out"); console.error("err"); process.exit(5); }, 100)'],
      {
        env: { BENCH_TEST_VALUE: 'x' },
      },
    );
    assert.deepEqual([run.code, run.stdout, run.stderr], [5, 'out\n', 'err\n']);
    assert.ok(run.ms >= 100, `ms ${run.ms}`);
    const env = await runChild(node, ['-e', 'console.log(process.env.BENCH_TEST_VALUE)'], {
      env: { BENCH_TEST_VALUE: 'x' },
    });
    assert.equal(env.stdout, 'x\n');
  });
});

describe('texts', () => {
  test('wordCount counts whitespace-separated words', () => {
    assert.equal(wordCount('  Very   nice!\n\tthanks '), 3);
    assert.equal(wordCount('   '), 0);
  });

  test('pickSpread takes evenly spaced items, the first included', () => {
    assert.deepEqual(pickSpread([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 5), [0, 2, 4, 6, 8]);
    assert.deepEqual(pickSpread(['a', 'b'], 2), ['a', 'b']);
    assert.throws(() => pickSpread([1], 2), /cannot pick 2 of 1 items/);
  });

  test('textsOfLength keeps only texts in the word range, or null when too few qualify', () => {
    const corpus = ['one', 'one two', 'one two three', 'a b', 'x y z w', 'p q'];
    assert.deepEqual(textsOfLength(corpus, { count: 3, minWords: 2, maxWords: 3 }), [
      'one two',
      'one two three',
      'a b',
    ]);
    assert.equal(textsOfLength(corpus, { count: 5, minWords: 2, maxWords: 3 }), null);
  });

  test('generateTexts is deterministic per seed, with the requested length and vocabulary', () => {
    const vocabulary = ['good', 'bad', 'book', 'nice'];
    const a = generateTexts({ count: 3, words: 50, vocabulary, seed: 1 });
    assert.deepEqual(a, generateTexts({ count: 3, words: 50, vocabulary, seed: 1 }));
    assert.notDeepEqual(a, generateTexts({ count: 3, words: 50, vocabulary, seed: 2 }));
    assert.equal(a.length, 3);
    for (const text of a) {
      assert.equal(wordCount(text), 50);
      assert.ok(text.split(' ').every((word) => vocabulary.includes(word)));
    }
    assert.throws(
      () => generateTexts({ count: 1, words: 1, vocabulary: [], seed: 1 }),
      /vocabulary is empty/,
    );
  });
});

describe('machineInfo', () => {
  test('describes this process and machine', () => {
    const info = machineInfo();
    assert.equal(info.node, process.version);
    assert.ok(Number.isInteger(info.cpus) && info.cpus >= 1);
    assert.ok(info.memoryGiB > 0);
    assert.ok(info.cpuModel.length > 0);
    assert.match(info.platform, new RegExp(`^${process.platform} `));
    assert.ok(info.loadAverage1m >= 0);
  });
});

describe('rssMiB', () => {
  test('reads a process’s resident memory from /proc, as the process itself sees it', async () => {
    const own = process.memoryUsage().rss / 2 ** 20;
    const read = await rssMiB(process.pid);
    assert.ok(Math.abs(read - own) < own * 0.2 + 8, `/proc says ${read} MiB, process says ${own} MiB`);
    const child = startChild(process.execPath, [
      '-e',
      'const keep = Buffer.alloc(96 * 2 ** 20, 1); console.log("ready"); setInterval(() => keep[0]++, 1000);',
    ]);
    try {
      await child.waitForLine(/ready/);
      assert.ok((await rssMiB(child.process.pid ?? 0)) > 96, 'a child holding 96 MiB has more RSS');
    } finally {
      await child.stop('SIGKILL');
    }
    await assert.rejects(rssMiB(2 ** 22 + 12_345), /ENOENT/);
  });
});
