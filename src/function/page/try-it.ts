/**
 * GET /: one self-contained page to try the API from a browser: pick one of the models GET /models lists,
 * score texts with it, and send a correction (POST /feedback) for an answer that is wrong. Inline CSS and
 * JS, no fonts, images or CDN, so it works offline and behind any stage. A strict Content-Security-Policy
 * allows exactly the inline script and style below by their SHA-256 hashes (static content: hashes,
 * unlike a nonce, let the page be cached), and lets the page talk only to its own origin.
 *
 * Kept as a string rather than a framework or template library: it is one small static page, and the
 * Lambda bundle needs no file beside index.mjs.
 */
import { createHash } from 'node:crypto';

/**
 * The emoji shown beside each emotion label (the emotion bundle's seven classes). Labels not listed get
 * none: a rating keeps its stars, and a new model's labels show as plain names until added here.
 */
export const LABEL_EMOJI: Readonly<Record<string, string>> = {
  joy: '😄',
  fear: '😨',
  anger: '😠',
  sadness: '😢',
  disgust: '🤢',
  shame: '😳',
  guilt: '😔',
};

const STYLE = `
:root { color-scheme: light; --ink: #1b1b1f; --muted: #4a4a55; --accent: #0b57d0; --error: #b3261e;
  --star: #8a5a00; --track: #e3e6ee; --line: #c4c7d0; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: #fff; }
main { max-width: 46rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: 0.5rem 0; }
h2 { font-size: 1.15rem; margin: 1.25rem 0 0.5rem; }
p { margin: 0.25rem 0; }
a { color: var(--accent); }
label { display: block; font-weight: 600; margin-top: 1rem; }
.hint { color: var(--muted); font-size: 0.9rem; }
textarea { display: block; width: 100%; min-height: 9rem; padding: 0.5rem; font: inherit; color: var(--ink);
  border: 1px solid var(--muted); border-radius: 4px; resize: vertical; }
textarea::placeholder { color: #5f6368; }
button { margin-top: 0.75rem; padding: 0.6rem 1.2rem; font: inherit; font-weight: 600; color: #fff;
  background: var(--accent); border: 0; border-radius: 4px; cursor: pointer; }
button[aria-disabled="true"] { background: var(--muted); cursor: progress; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
button:focus-visible { outline-color: var(--ink); }
#status { color: var(--muted); min-height: 1.5em; }
ol.results { list-style: none; padding: 0; margin: 0; }
li.result { border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem; margin: 0.75rem 0; }
.review { overflow-wrap: anywhere; }
.review .title { font-weight: 600; }
.stars { color: var(--star); font-size: 1.25rem; letter-spacing: 0.1em; }
.note { color: var(--muted); font-size: 0.9rem; }
ul.probs { list-style: none; padding: 0; margin: 0.5rem 0 0; }
ul.probs li { display: grid; grid-template-columns: 2.5rem 1fr 4rem; gap: 0.5rem; align-items: center; }
ul.probs.named li { grid-template-columns: 7rem 1fr 4rem; }
.bar { height: 0.75rem; background: var(--track); border-radius: 2px; overflow: hidden; }
.fill { display: block; height: 100%; background: var(--accent); }
.pct { text-align: right; font-variant-numeric: tabular-nums; }
select { display: block; margin-top: 0.25rem; padding: 0.4rem; font: inherit; color: var(--ink); background: #fff;
  border: 1px solid var(--muted); border-radius: 4px; }
.feedback { margin-top: 0.5rem; }
button.wrong { margin-top: 0; padding: 0.3rem 0.8rem; color: var(--accent); background: #fff;
  border: 1px solid var(--accent); }
form.fix { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; margin-top: 0.5rem; }
form.fix label, form.fix select, form.fix button { margin: 0; }
form.fix button { padding: 0.4rem 0.8rem; }
.feedback-status { margin-top: 0.5rem; overflow-wrap: anywhere; }
.feedback-status:empty { display: none; }
.feedback-status.error { color: var(--error); }
#problem { border-left: 4px solid var(--error); padding: 0.25rem 0.75rem; margin-top: 1rem; }
#problem h2 { color: var(--error); margin-top: 0.25rem; }
#problem code { overflow-wrap: anywhere; }
[hidden] { display: none !important; }
`;

// Plain ES2020 for any current browser; builds every node with textContent, so review text is never HTML.
const SCRIPT = `
'use strict';
const base = new URL(location.pathname.replace(/\\/?$/, '/'), location.origin);
const EMOJI = new Map(Object.entries(${JSON.stringify(LABEL_EMOJI)}));
const form = document.getElementById('try');
const choice = document.getElementById('model-choice');
const choiceHint = document.getElementById('model-hint');
const input = document.getElementById('reviews');
const button = document.getElementById('submit');
const status = document.getElementById('status');
const model = document.getElementById('model');
const list = document.getElementById('results');
const problem = document.getElementById('problem');
document.getElementById('openapi').href = new URL('openapi.json', base).href;
/**
 * The default model's name in GET /models. Feedback must name a model as the function serves it, which
 * may differ from the bundle's own name that answers carry (MODEL_URI with DEFAULT_MODEL).
 */
let defaultName = '';
let corrections = 0;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A label with its emoji, if it has one; the emoji is decoration, the name says it to screen readers. */
function labelNode(className, label) {
  const node = el('span', className);
  const emoji = EMOJI.get(label);
  if (emoji) {
    const icon = el('span', 'emoji', emoji);
    icon.setAttribute('aria-hidden', 'true');
    node.append(icon, ' ');
  }
  node.append(label);
  return node;
}

/** Fills the model choice from GET /models, so the page offers whatever this function serves. */
async function listModels() {
  try {
    const response = await fetch(new URL('models', base), { headers: { accept: 'application/json' } });
    const body = await response.json().catch(() => null);
    if (!response.ok || !body || !Array.isArray(body.models)) throw new Error('HTTP ' + response.status);
    defaultName = body.default;
    choice.replaceChildren(...body.models.map((m) => {
      const option = el('option', '', m.default ? m.name + ' (default)' : m.name);
      option.value = m.name;
      option.selected = m.default;
      return option;
    }));
  } catch (error) {
    choiceHint.textContent = 'The list of models could not be read (' + String(error && error.message) + '): the default model answers.';
  }
}

/** One review per non-empty line; "Title | text" gives it a title (split at the first "|"). */
function parseLines(value) {
  const reviews = [];
  const lines = [];
  value.split('\\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const bar = line.indexOf('|');
    const title = bar < 0 ? '' : line.slice(0, bar).trim();
    const text = bar < 0 ? line.trim() : line.slice(bar + 1).trim();
    reviews.push(bar < 0 ? text : { title: title || null, text });
    lines.push(i + 1);
  });
  return { reviews, lines };
}

/** Stars for a 1-5 rating; any other label by name (and emoji), as the model's answer. */
function ratingLine(p) {
  const rating = el('p', 'rating');
  if (typeof p.rating === 'number' && p.rating >= 1 && p.rating <= 5) {
    const stars = el('span', 'stars', '★'.repeat(p.rating) + '☆'.repeat(5 - p.rating));
    stars.setAttribute('aria-hidden', 'true');
    rating.append(stars, ' ', el('span', 'rating-text', p.rating + ' of 5 stars'));
  } else {
    rating.append(labelNode('rating-text', String(p.rating)));
  }
  if (p.score !== null) rating.append(' · expected score ', el('strong', 'score', String(p.score)));
  return rating;
}

function probabilityList(p) {
  const probs = el('ul', typeof p.rating === 'number' ? 'probs' : 'probs named');
  probs.setAttribute('aria-label', typeof p.rating === 'number' ? 'Probability of each rating' : 'Probability of each label');
  for (const [label, value] of Object.entries(p.probabilities)) {
    const row = el('li');
    row.dataset.label = label;
    const bar = el('span', 'bar');
    const fill = el('span', 'fill');
    fill.style.width = (value * 100).toFixed(1) + '%';
    bar.append(fill);
    row.append(labelNode('label', label), bar, el('span', 'pct', (value * 100).toFixed(1) + '%'));
    probs.append(row);
  }
  return probs;
}

/**
 * "This is wrong": the model's other labels (the keys of its probabilities) to pick the right one from,
 * sent to POST /feedback with the text and the label shown; the outcome appears beside it.
 */
function correction(review, p, served) {
  const n = ++corrections;
  const box = el('div', 'feedback');
  const toggle = el('button', 'wrong', 'This is wrong');
  toggle.type = 'button';
  toggle.setAttribute('aria-expanded', 'false');
  toggle.setAttribute('aria-controls', 'fix-' + n);
  const fix = el('form', 'fix');
  fix.id = 'fix-' + n;
  fix.hidden = true;
  const shown = String(p.rating);
  const pick = el('select');
  pick.id = 'fix-label-' + n;
  for (const label of Object.keys(p.probabilities).filter((l) => l !== shown)) {
    const emoji = EMOJI.get(label);
    const option = el('option', '', emoji ? emoji + ' ' + label : label);
    option.value = label;
    pick.append(option);
  }
  const caption = el('label', '', 'Correct label');
  caption.htmlFor = pick.id;
  const send = el('button', '', 'Send correction');
  send.type = 'submit';
  fix.append(caption, pick, send);
  const outcome = el('p', 'feedback-status');
  outcome.setAttribute('role', 'status');
  toggle.addEventListener('click', () => {
    const open = fix.hidden;
    fix.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open) pick.focus();
  });
  fix.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { model: served, text: typeof review === 'string' ? review : review.text, label: pick.value, prediction: shown };
    if (typeof review !== 'string' && review.title) body.title = review.title;
    if (await sendFeedback(body, send, outcome)) {
      fix.hidden = true;
      toggle.setAttribute('aria-expanded', 'false');
      toggle.focus();
    }
  });
  box.append(toggle, fix, outcome);
  return box;
}

/** POST /feedback; true when stored (202 with the record's id), else the refusal is shown as it came. */
async function sendFeedback(body, send, outcome) {
  if (send.getAttribute('aria-disabled') === 'true') return false;
  send.setAttribute('aria-disabled', 'true');
  outcome.className = 'feedback-status';
  outcome.textContent = 'Sending…';
  try {
    const response = await fetch(new URL('feedback', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => null);
    if (response.status === 202 && answer && answer.id) {
      outcome.replaceChildren('Thanks: "' + body.label + '" is recorded as ', el('code', 'feedback-id', answer.id), '.');
      return true;
    }
    const { title, detail, errors } = problemParts(response.status, answer);
    outcome.textContent = ['Not sent: ' + title, detail, ...errors.map((e) => e.pointer + ': ' + e.detail)].join(' — ');
  } catch (error) {
    outcome.textContent = 'Not sent: the API could not be reached — ' + String(error && error.message);
  } finally {
    send.removeAttribute('aria-disabled');
  }
  outcome.classList.add('error');
  return false;
}

function renderPrediction(review, p, served) {
  const item = el('li', 'result');
  const text = el('p', 'review');
  if (typeof review !== 'string' && review.title) {
    text.append(el('span', 'title', review.title), ' — ');
  }
  text.append(typeof review === 'string' ? review : review.text);
  item.append(text, ratingLine(p));
  if (p.tokens === 0) item.append(el('p', 'note', 'No word the model knows: this is its no-information answer.'));
  item.append(probabilityList(p), correction(review, p, served));
  return item;
}

function showResults(reviews, body, served) {
  problem.hidden = true;
  model.textContent = 'Model ' + body.model.name + ', version ' + body.model.version;
  list.replaceChildren(...body.predictions.map((p, i) => renderPrediction(reviews[i], p, served)));
  status.textContent = body.predictions.length + ' of ' + reviews.length + ' reviews scored.';
}

/** Pointers into the array sent ("/2/text") also name the line the review came from. */
function lineOf(pointer, lines) {
  const index = /^\\/(\\d+)/.exec(pointer);
  return index && lines[Number(index[1])] ? ' (line ' + lines[Number(index[1])] + ')' : '';
}

/** A problem+json answer (or anything else) as title with status, detail and per-item errors. */
function problemParts(httpStatus, body) {
  const title = ((body && body.title) || 'Request failed') + (httpStatus ? ' (' + httpStatus + ')' : '');
  const detail = (body && (body.detail || body.message)) || 'HTTP ' + httpStatus;
  const errors = (body && Array.isArray(body.errors)) ? body.errors : [];
  return { title, detail, errors };
}

function showProblem(httpStatus, body, lines) {
  list.replaceChildren();
  model.textContent = '';
  const { title, detail, errors } = problemParts(httpStatus, body);
  problem.replaceChildren(el('h2', '', title), el('p', 'detail', detail));
  if (errors.length > 0) {
    const items = el('ul', 'errors');
    for (const e of errors) {
      const row = el('li');
      row.append(el('code', 'pointer', e.pointer === '' ? '(the list)' : e.pointer), lineOf(e.pointer, lines) + ': ', el('span', 'error-detail', e.detail));
      items.append(row);
    }
    problem.append(items);
  }
  problem.hidden = false;
  status.textContent = 'The request was refused.';
}

// Not button.disabled: a disabled button drops the keyboard focus to the page's start.
let busy = false;
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (busy) return;
  busy = true;
  const { reviews, lines } = parseLines(input.value);
  // An empty choice (the list could not be read) is the default model, at POST /predictions.
  const chosen = choice.value;
  const path = chosen ? 'models/' + encodeURIComponent(chosen) + '/predictions' : 'predictions';
  button.setAttribute('aria-disabled', 'true');
  status.textContent = 'Scoring…';
  try {
    const response = await fetch(new URL(path, base), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(reviews),
    });
    const body = await response.json().catch(() => null);
    if (response.ok && body) showResults(reviews, body, chosen || defaultName || body.model.name);
    else showProblem(response.status, body, lines);
  } catch (error) {
    showProblem(0, { title: 'The API could not be reached', detail: String(error && error.message) }, lines);
  } finally {
    busy = false;
    button.removeAttribute('aria-disabled');
  }
});

listModels();
`;

const BODY = `
<main>
  <h1>Review sentiment</h1>
  <p>Scores texts with the models this function serves: product reviews on a 1-5 scale, or another model's
    labels, such as emotions. An answer that is wrong can be corrected: corrections are stored for the next
    training. The API is described in <a id="openapi" href="openapi.json">openapi.json</a>.</p>
  <form id="try">
    <label for="model-choice">Model</label>
    <select id="model-choice" name="model" aria-describedby="model-hint">
      <option value="">the default model</option>
    </select>
    <p class="hint" id="model-hint">The models this function serves (GET /models).</p>
    <label for="reviews">Reviews, one per line</label>
    <p class="hint" id="reviews-hint">Optional title first, separated by a bar: <code>Great value | Works as described.</code></p>
    <textarea id="reviews" name="reviews" aria-describedby="reviews-hint" spellcheck="true"
      placeholder="The book was very poor&#10;Very nice!"></textarea>
    <button id="submit" type="submit">Score reviews</button>
  </form>
  <section aria-labelledby="results-heading">
    <h2 id="results-heading">Results</h2>
    <div id="output" aria-live="polite">
      <p id="status">Nothing scored yet.</p>
      <p id="model"></p>
      <ol id="results" class="results"></ol>
    </div>
    <div id="problem" role="alert" hidden></div>
  </section>
  <noscript><p>This page needs JavaScript; the API itself does not (see openapi.json).</p></noscript>
</main>
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

export const TRY_IT_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const TRY_IT_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Review sentiment: try the API</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;
