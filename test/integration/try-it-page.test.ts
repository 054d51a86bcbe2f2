/**
 * The try-it page (GET /) in a real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core; nothing is downloaded), against `npm start`'s entry serving the default model. Saves
 * the screenshot the README shows, docs/try-it.png.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = resolve(ROOT, 'docs', 'try-it.png');
const SEEDS = ['The book was very poor', 'Very nice!', 'The author could have done more', 'Amazing product!'];
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

interface Prediction {
  rating: number;
  score: number;
  probabilities: Record<string, number>;
  tokens: number;
}
interface Answer {
  model: { name: string; version: string };
  predictions: Prediction[];
}

const missing = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does) to run the browser test`;

let child: ChildProcess | undefined;
let url: string;
let browser: Browser | undefined;

/** `npm start`'s entry on a free port, default model (models/review-sentiment), until it says where it listens. */
async function startServer(): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOG_LEVEL: 'SILENT' };
  delete env.MODEL_URI;
  delete env.CORS_ALLOW_ORIGINS;
  child = spawn(process.execPath, ['src/local/server.ts'], { cwd: ROOT, env });
  url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    child?.stdout?.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) resolveUrl(match[1]);
    });
    child?.on('close', () => reject(new Error(`server exited early: ${out}`)));
  });
}

before(async () => {
  if (missing) return;
  await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
});

after(async () => {
  await browser?.close();
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child?.once('close', r));
    child.kill('SIGTERM');
    await exited;
  }
});

/** A page that records console errors and CSP violations, which must stay empty. */
async function openPage(width = 820): Promise<{ page: Page; errors: string[] }> {
  assert.ok(browser);
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const errors: string[] = [];
  page.on('console', (message) => {
    // Chromium logs every 4xx fetch; a refused request is part of the page's job.
    const refused = /^Failed to load resource: the server responded with a status of 4\d\d/;
    if (message.type() === 'error' && !refused.test(message.text())) errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${url}/`);
  return { page, errors };
}

async function submitByKeyboard(page: Page, text: string): Promise<void> {
  const input = page.getByLabel('Reviews, one per line');
  await input.fill(text);
  await input.focus();
  await page.keyboard.press('Tab');
  assert.equal(
    await page.evaluate('document.activeElement.id'),
    'submit',
    'Tab moves from the reviews to the button',
  );
  await page.keyboard.press('Enter');
}

/** WCAG contrast of an element's text against the first opaque background behind it. */
const CONTRAST = `(selector) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const el = document.querySelector(selector);
  let bg = el;
  while (bg && (rgb(getComputedStyle(bg).backgroundColor)[3] === 0 || getComputedStyle(bg).backgroundColor === 'transparent')) bg = bg.parentElement;
  const back = bg ? rgb(getComputedStyle(bg).backgroundColor) : [255, 255, 255];
  const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(back)];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}`;

describe('GET / in headless Chromium', { skip: missing }, () => {
  test('the 4 seed reviews: each result in the DOM equals POST /predictions; screenshot saved', async () => {
    const { page, errors } = await openPage();
    assert.equal(await page.title(), 'Review sentiment: try the API');
    assert.equal(await page.locator('#output').getAttribute('aria-live'), 'polite');
    await submitByKeyboard(page, SEEDS.join('\n'));
    await page.locator('li.result').nth(3).waitFor();

    const response = await fetch(`${url}/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(SEEDS),
    });
    const answer = (await response.json()) as Answer;
    const { name, version } = answer.model;
    assert.equal(await page.locator('#model').textContent(), `Model ${name}, version ${version}`);
    const results = page.locator('li.result');
    assert.equal(await results.count(), 4);
    for (const [i, expected] of answer.predictions.entries()) {
      const result = results.nth(i);
      assert.equal(await result.locator('.review').textContent(), SEEDS[i]);
      assert.equal(await result.locator('.rating-text').textContent(), `${expected.rating} of 5 stars`);
      assert.equal(await result.locator('.stars').textContent(), '★'.repeat(expected.rating).padEnd(5, '☆'));
      assert.equal(await result.locator('.score').textContent(), String(expected.score));
      for (const [label, p] of Object.entries(expected.probabilities)) {
        const pct = await result.locator(`li[data-label="${label}"] .pct`).textContent();
        assert.equal(pct, `${(p * 100).toFixed(1)}%`, `review ${i}, label ${label}`);
      }
    }
    // The document's 200 example is this model's real answer, not invented numbers.
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as {
      paths: Record<
        string,
        {
          post?: {
            responses: Record<
              string,
              { content: Record<string, { examples: Record<string, { value: unknown }> }> }
            >;
          };
        }
      >;
    };
    const documented =
      doc.paths['/predictions']?.post?.responses['200']?.content['application/json']?.examples[
        'four-reviews'
      ];
    assert.deepEqual(documented?.value, answer);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.deepEqual(errors, [], 'no console errors, no CSP violations');
    await page.close();
  });

  test('a refused request shows the problem with each pointer, its line and detail', async () => {
    const { page, errors } = await openPage();
    await submitByKeyboard(page, 'Very nice!\nOnly a title | ');
    const problem = page.getByRole('alert');
    await problem.locator('li').first().waitFor();
    assert.equal(await problem.locator('h2').textContent(), 'Invalid reviews (422)');
    assert.equal(await problem.locator('li').textContent(), '/1/text (line 2): text is empty');
    assert.equal(await page.locator('li.result').count(), 0);

    await submitByKeyboard(page, '');
    await problem.getByText('at least one review is required').waitFor();
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('usable at 375 px, visible keyboard focus, text contrast at least 4.5:1, a link to openapi.json', async () => {
    const { page } = await openPage(375);
    await submitByKeyboard(page, SEEDS.join('\n'));
    await page.locator('li.result').nth(3).waitFor();
    assert.ok(
      Number(await page.evaluate('document.documentElement.scrollWidth')) <= 375,
      'no sideways scrolling',
    );
    const outline = await page.evaluate(
      'getComputedStyle(document.activeElement).outlineStyle + " " + getComputedStyle(document.activeElement).outlineWidth',
    );
    assert.match(String(outline), /^solid [1-9]/, 'the focused button shows an outline');
    for (const selector of [
      'h1',
      'label',
      '.hint',
      '#status',
      '#submit',
      '#openapi',
      '.rating-text',
      '.stars',
      '.pct',
    ]) {
      const ratio = Number(await page.evaluate(`(${CONTRAST})(${JSON.stringify(selector)})`));
      assert.ok(ratio >= 4.5, `${selector}: contrast ${ratio.toFixed(2)}`);
    }
    const link = page.getByRole('link', { name: 'openapi.json' });
    assert.equal(await link.getAttribute('href'), `${url}/openapi.json`);
    const doc = await (await fetch(`${url}/openapi.json`)).json();
    assert.equal((doc as { openapi: string }).openapi, '3.1.0');
    await page.close();
  });
});
