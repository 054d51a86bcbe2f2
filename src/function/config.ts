/**
 * Function configuration, read once at init from the environment. Every bad value fails loudly with
 * the variable's name, so a misconfigured deployment dies at cold start instead of on some request.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BadRequestError, messageOf } from '../errors.ts';
import {
  BACKEND_PREFERENCES,
  type BackendPreference,
  RUNTIME_PREFERENCES,
  type RuntimePreference,
} from '../model/runtime.ts';
import { parseStorageUri } from '../storage/index.ts';
import { type ModelEntry, resolveModelList } from './model-list.ts';

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Published in GET /health so clients know what a valid request looks like. */
export interface Limits {
  maxReviews: number;
  maxReviewChars: number;
  maxBodyBytes: number;
}

export interface Config {
  /** The default model's bundle (MODEL_URI, or its entry in MODELS). */
  modelUri: string;
  /** Every model this function serves, the default included (model-list.ts). */
  models: ModelEntry[];
  defaultModel: string;
  /** CloudWatch namespace of the embedded-format metrics. */
  metricsNamespace: string;
  /** Where POST /feedback stores records; null: feedback is not collected (404). */
  feedbackUri: string | null;
  limits: Limits;
  /** RUNTIME: `auto` serves a bundle's model.onnx with ONNX Runtime when it has one, else TensorFlow.js. */
  runtime: RuntimePreference;
  backend: BackendPreference;
  logLevel: LogLevel;
  logReviewText: boolean;
  /** Origins browsers may call the API from (CORS); empty: none, `*`: any. */
  corsAllowOrigins: string[];
  /** Where the ranking job publishes (RANKINGS_URI); null: GET /rankings/* answer 404. */
  rankingsUri: string | null;
}

export const DEFAULT_MAX_REVIEWS = 100;
/**
 * Characters per review. The shop's own product_reviews.csv has reviews of up to 11,310 characters, which
 * a 10,000 limit refused (422 for the whole request); the model reads the last maxLen words of any text,
 * so a long review costs only its tokenising. 100 such reviews stay well under Lambda's 6 MB payload.
 */
export const DEFAULT_MAX_REVIEW_CHARS = 20_000;
export const DEFAULT_METRICS_NAMESPACE = 'ReviewSentiment';

/**
 * The folder of the nearest package.json: the repo root when run from src/, /var/task in the image (where
 * the bundled index.mjs sits at the root itself), so both find models/ and runs/ beside it.
 */
const PACKAGE_ROOT = packageRoot(import.meta.dirname);

function packageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return resolve(start, '..');
  }
}

const bundled = (name: string): ModelEntry => ({ name, uri: join(PACKAGE_ROOT, 'models', name) });

/**
 * The bundles shipped in models/ (the image copies them too): what `npm start` serves when neither
 * MODEL_URI nor MODELS is set, as if MODELS listed them. The first is the default model. The only list
 * of them: a bundle added to models/ and here is served by the local server and offered by its page.
 */
export const BUNDLED_MODELS = [bundled('review-sentiment'), bundled('emotion')] as const;

/** The default model's bundle when nothing is configured (the first bundled model). */
export const DEFAULT_MODEL_URI = BUNDLED_MODELS[0].uri;

/** `npm start` collects feedback here unless FEEDBACK_URI says otherwise (runs/ is not committed). */
export const DEFAULT_FEEDBACK_URI = join(PACKAGE_ROOT, 'runs', 'feedback');

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Room for `maxReviews` reviews of `maxReviewChars` ASCII characters plus 10% for JSON syntax, escapes
 * and multi-byte characters: 1,100,000 bytes with the defaults.
 */
export function defaultMaxBodyBytes(maxReviews: number, maxReviewChars: number): number {
  return Math.ceil(maxReviews * maxReviewChars * 1.1);
}

export function loadConfig(env: Env = process.env): Config {
  const maxReviews = positiveInt(env, 'MAX_REVIEWS', DEFAULT_MAX_REVIEWS);
  const maxReviewChars = positiveInt(env, 'MAX_REVIEW_CHARS', DEFAULT_MAX_REVIEW_CHARS);
  const { models, defaultModel } = resolveModelList({
    ...configuredModels(env),
    DEFAULT_MODEL: present(env, 'DEFAULT_MODEL'),
    fallback: BUNDLED_MODELS,
  });
  return {
    modelUri: models.find((m) => m.name === defaultModel)?.uri ?? DEFAULT_MODEL_URI,
    models,
    defaultModel,
    metricsNamespace: metricsNamespace(env),
    feedbackUri: feedbackUri(env),
    limits: {
      maxReviews,
      maxReviewChars,
      maxBodyBytes: positiveInt(env, 'MAX_BODY_BYTES', defaultMaxBodyBytes(maxReviews, maxReviewChars)),
    },
    runtime: oneOf(env, 'RUNTIME', RUNTIME_PREFERENCES, 'auto'),
    backend: oneOf(env, 'TFJS_BACKEND', BACKEND_PREFERENCES, 'auto'),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'INFO', (value) => value.toUpperCase()),
    logReviewText: boolean(env, 'LOG_REVIEW_TEXT', false),
    corsAllowOrigins: origins(env, 'CORS_ALLOW_ORIGINS'),
    rankingsUri: rankingsUri(env),
  };
}

/** `npm run rank -- --out runs/rankings` locally; in Lambda only what the template sets (unset: none). */
export const DEFAULT_RANKINGS_URI = join(PACKAGE_ROOT, 'runs', 'rankings');

function rankingsUri(env: Env): string | null {
  const value = present(env, 'RANKINGS_URI');
  if (value !== undefined) {
    try {
      parseStorageUri(value);
    } catch (error) {
      throw new BadRequestError(`RANKINGS_URI is not a folder or s3:// URI: ${messageOf(error)}`, {
        cause: error,
      });
    }
    return value;
  }
  return present(env, 'AWS_LAMBDA_FUNCTION_NAME') === undefined ? DEFAULT_RANKINGS_URI : null;
}

/** Unset or empty means "use the default"; in Lambda the template must set MODEL_URI, so it is required there. */
function present(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/**
 * MODELS or MODEL_URI as set. Outside Lambda neither is needed (the bundled models are served); in Lambda
 * one must name the bundles: what a deployment serves is its template's choice, never a silent default.
 */
function configuredModels(env: Env): { MODELS: string | undefined; MODEL_URI: string | undefined } {
  const models = { MODELS: present(env, 'MODELS'), MODEL_URI: present(env, 'MODEL_URI') };
  const inLambda = present(env, 'AWS_LAMBDA_FUNCTION_NAME') !== undefined;
  if (inLambda && models.MODELS === undefined && models.MODEL_URI === undefined) {
    throw new BadRequestError(
      'MODEL_URI is not set; in Lambda it (or MODELS) must name the bundle (s3://bucket/prefix/)',
    );
  }
  return models;
}

/** CloudWatch's rule for custom namespaces: 1-255 of [A-Za-z0-9.-_/#:], and "AWS/" is reserved. */
function metricsNamespace(env: Env): string {
  const value = present(env, 'METRICS_NAMESPACE');
  if (value === undefined) return DEFAULT_METRICS_NAMESPACE;
  if (!/^[A-Za-z0-9.\-_/#:]{1,255}$/.test(value) || value.startsWith('AWS/')) {
    throw new BadRequestError(
      `METRICS_NAMESPACE must be 1-255 of A-Z a-z 0-9 . - _ / # : and not start with AWS/, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Unset in Lambda: no feedback (the template sets it); unset locally: runs/feedback; "none" turns it off. */
function feedbackUri(env: Env): string | null {
  const value = present(env, 'FEEDBACK_URI');
  if (value?.toLowerCase() === 'none') return null;
  if (value !== undefined) return value;
  return present(env, 'AWS_LAMBDA_FUNCTION_NAME') === undefined ? DEFAULT_FEEDBACK_URI : null;
}

function positiveInt(env: Env, name: string, fallback: number): number {
  const value = present(env, name);
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    throw new BadRequestError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

function oneOf<T extends string>(
  env: Env,
  name: string,
  allowed: readonly T[],
  fallback: T,
  canonical: (value: string) => string = (value) => value,
): T {
  const value = present(env, name);
  if (value === undefined) return fallback;
  const match = allowed.find((option) => option === canonical(value));
  if (match === undefined) {
    throw new BadRequestError(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return match;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = present(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new BadRequestError(`${name} must be true or false, got ${JSON.stringify(env[name])}`);
}

/**
 * Comma-separated origins (`https://shop.example.com`, `https://*.example.com`) or `*`. An origin is a
 * scheme and host with an optional port and nothing after it: a trailing slash or path never matches
 * the Origin header a browser sends, so it is refused here rather than silently matching nothing.
 */
function origins(env: Env, name: string): string[] {
  const list = (present(env, name) ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  const bad = list.find((origin) => origin !== '*' && !/^https?:\/\/[\w*.-]+(:\d+)?$/i.test(origin));
  if (bad !== undefined) {
    throw new BadRequestError(
      `${name} must list origins like https://example.com or *, got ${JSON.stringify(bad)}`,
    );
  }
  return list;
}
