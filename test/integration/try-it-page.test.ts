/**
 * The try-it page (GET /) in a real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core; nothing is downloaded), against `npm start`'s entry serving the bundled models and
 * storing feedback in a temporary folder. Saves the screenshot the README shows, docs/try-it.png.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { Child } from '../../bench/lib/child.ts';
import { startServerChild } from '../../bench/lib/server.ts';
import { feedbackId, feedbackKey, parseFeedbackRecord } from '../../src/feedback/record.ts';
import { LABEL_EMOJI } from '../../src/function/page/try-it.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = resolve(ROOT, 'docs', 'try-it.png');
const EXAM = 'I passed my exam!';
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
  rating: number | string;
  score: number | null;
  probabilities: Record<string, number>;
  tokens: number;
}
interface Answer {
  model: { name: string; version: string };
  predictions: Prediction[];
}
interface ModelList {
  default: string;
  models: { name: string; default: boolean }[];
}

const missing = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does) to run the browser test`;

const children: Child[] = [];
let url: string;
let feedbackDir: string | undefined;
let browser: Browser | undefined;

/** `npm start`'s entry, unconfigured (the bundled models, as `npm start` serves them) but for `env`. */
async function startServer(env: Record<string, string>): Promise<string> {
  const { child, url } = await startServerChild({ LOG_LEVEL: 'SILENT', ...env });
  children.push(child);
  return url;
}

before(async () => {
  if (missing) return;
  feedbackDir = await mkdtemp(join(tmpdir(), 'try-it-feedback-'));
  url = await startServer({ FEEDBACK_URI: feedbackDir });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
});

after(async () => {
  await browser?.close();
  await Promise.all(children.map((child) => child.stop()));
  if (feedbackDir) await rm(feedbackDir, { recursive: true, force: true });
});

/** A page that records console errors and CSP violations, which must stay empty. */
async function openPage(width = 820, at = url): Promise<{ page: Page; errors: string[] }> {
  assert.ok(browser);
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const errors: string[] = [];
  page.on('console', (message) => {
    // Chromium logs every 4xx fetch; a refused request is part of the page's job.
    const refused = /^Failed to load resource: the server responded with a status of 4\d\d/;
    if (message.type() === 'error' && !refused.test(message.text())) errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${at}/`);
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
  test('the model choice lists GET /models, the default model chosen', async () => {
    const { page, errors } = await openPage();
    const listed = (await (await fetch(`${url}/models`)).json()) as ModelList;
    const choice = page.getByLabel('Model', { exact: true });
    await choice.locator(`option[value="${listed.default}"]`).waitFor({ state: 'attached' });
    const options = await Promise.all(
      (await choice.locator('option').all()).map(async (o) => [
        await o.getAttribute('value'),
        await o.textContent(),
      ]),
    );
    assert.deepEqual(
      options,
      listed.models.map((m) => [m.name, m.default ? `${m.name} (default)` : m.name]),
    );
    assert.deepEqual(
      listed.models.map((m) => m.name),
      ['review-sentiment', 'emotion'],
      'npm start serves both bundled models',
    );
    assert.equal(await choice.inputValue(), listed.default);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the 4 seed reviews: each result in the DOM equals POST /predictions; screenshot saved', async () => {
    const { page, errors } = await openPage();
    assert.equal(await page.title(), 'Review sentiment: try the API');
    assert.equal(await page.locator('#output').getAttribute('aria-live'), 'polite');
    await page.locator('#model-choice option[value="review-sentiment"]').waitFor({ state: 'attached' });
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
      assert.equal(
        await result.locator('.stars').textContent(),
        '★'.repeat(Number(expected.rating)).padEnd(5, '☆'),
      );
      assert.equal(await result.locator('.score').textContent(), String(expected.score));
      for (const [label, p] of Object.entries(expected.probabilities)) {
        const pct = await result.locator(`li[data-label="${label}"] .pct`).textContent();
        assert.equal(pct, `${(p * 100).toFixed(1)}%`, `review ${i}, label ${label}`);
      }
      assert.equal(await result.locator('.emoji').count(), 0, 'ratings have stars, no emoji');
      await result.getByRole('button', { name: 'This is wrong' }).waitFor();
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

  test('the emotion model: its answer with an emoji; "This is wrong" stores a correction in the feedback store', async () => {
    const { page, errors } = await openPage();
    await page.getByLabel('Model', { exact: true }).selectOption('emotion');
    await submitByKeyboard(page, EXAM);
    const result = page.locator('li.result').first();
    await result.waitFor();

    const answer = (await (
      await fetch(`${url}/models/emotion/predictions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([EXAM]),
      })
    ).json()) as Answer;
    const [expected] = answer.predictions;
    assert.ok(expected);
    assert.equal(expected.rating, 'joy', 'the shipped emotion model reads "I passed my exam!" as joy');
    assert.equal(
      await page.locator('#model').textContent(),
      `Model emotion, version ${answer.model.version}`,
    );
    assert.equal(await result.locator('.rating-text').textContent(), `${LABEL_EMOJI.joy} joy`);
    assert.equal(await result.locator('.rating-text .emoji').textContent(), LABEL_EMOJI.joy);
    assert.equal(await result.locator('.rating-text .emoji').getAttribute('aria-hidden'), 'true');
    assert.equal(await result.locator('.stars').count(), 0, 'emotions are not ratings');
    assert.equal(await result.locator('.score').count(), 0, 'no expected score for unordered labels');
    const labels = Object.keys(expected.probabilities);
    assert.deepEqual([...labels].sort(), Object.keys(LABEL_EMOJI).sort(), 'an emoji for every class');
    for (const label of labels) {
      const row = result.locator(`li[data-label="${label}"]`);
      assert.equal(await row.locator('.label').textContent(), `${LABEL_EMOJI[label]} ${label}`);
    }

    const wrong = result.getByRole('button', { name: 'This is wrong' });
    assert.equal(await wrong.getAttribute('aria-expanded'), 'false');
    await wrong.click();
    assert.equal(await wrong.getAttribute('aria-expanded'), 'true');
    const correct = result.getByLabel('Correct label');
    assert.equal(
      await page.evaluate('document.activeElement.tagName'),
      'SELECT',
      'focus moves to the choice',
    );
    const offered = await Promise.all(
      (await correct.locator('option').all()).map((o) => o.getAttribute('value')),
    );
    assert.deepEqual(
      offered,
      labels.filter((label) => label !== 'joy'),
      "the model's other labels",
    );
    await correct.selectOption('guilt');
    await result.getByRole('button', { name: 'Send correction' }).click();
    await result.locator('.feedback-id').waitFor();
    const id = (await result.locator('.feedback-id').textContent()) ?? '';
    assert.equal(
      await result.locator('.feedback-status').textContent(),
      `Thanks: "guilt" is recorded as ${id}.`,
    );

    // The record is in the store the server was started with, under the id the page showed.
    const sent = { model: 'emotion', text: EXAM, title: null, label: 'guilt', prediction: 'joy' };
    assert.equal(id, feedbackId(sent));
    assert.ok(feedbackDir);
    assert.deepEqual(await readdir(join(feedbackDir, 'emotion')), [`${id}.json`]);
    const path = join(feedbackDir, feedbackKey('emotion', id));
    const record = parseFeedbackRecord(await readFile(path), path);
    assert.deepEqual(
      {
        model: record.model,
        text: record.text,
        title: record.title,
        label: record.label,
        prediction: record.prediction,
      },
      sent,
    );
    assert.equal(record.modelVersion, answer.model.version);
    assert.equal(await result.getByLabel('Correct label').isHidden(), true, 'the form closes once sent');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a correction the API refuses is shown plainly, with the problem it sent', async () => {
    // A deployment that collects no feedback: the real 404 problem, not a made-up one.
    const off = await startServer({ FEEDBACK_URI: 'none' });
    const { page, errors } = await openPage(820, off);
    await submitByKeyboard(page, 'Very nice!');
    const result = page.locator('li.result').first();
    await result.getByRole('button', { name: 'This is wrong' }).click();
    await result.getByLabel('Correct label').selectOption('1');
    await result.getByRole('button', { name: 'Send correction' }).click();
    const outcome = result.locator('.feedback-status.error');
    await outcome.waitFor();
    assert.equal(
      await outcome.textContent(),
      'Not sent: Feedback not collected (404) — this deployment does not collect feedback (FEEDBACK_URI is not set)',
    );
    assert.equal(await result.getByLabel('Correct label').isVisible(), true, 'the form stays open to retry');
    assert.deepEqual(errors, []);
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
      '#model-choice',
      'button.wrong',
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
