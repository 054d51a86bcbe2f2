/**
 * Which bundles one function serves, and under which names: `MODELS` lists them
 * (`review-sentiment=s3://bucket/models/review-sentiment/,emotion=s3://bucket/models/emotion/`), `MODEL_URI`
 * is the one-model shorthand, and with neither the caller's fallback list (the bundled models) is served.
 * The names appear in URLs (/models/{name}/predictions) and as a metrics dimension, so they are
 * restricted and checked at init; a bad list stops the function naming the variable.
 */
import { BadRequestError } from '../errors.ts';

export interface ModelEntry {
  name: string;
  uri: string;
}

export interface ModelList {
  models: ModelEntry[];
  /** The model POST /predictions and GET /health use. */
  defaultModel: string;
}

/** Lower-case letters, digits and inner dashes, up to 63 characters: safe in a URL path and a DNS label. */
export const MODEL_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Version folders as `npm run train` names them (20261121T224246Z-43eb3d8f), skipped when naming by URI. */
const VERSION_FOLDER = /^\d{8}T\d{6}Z-[0-9a-f]+$/i;

export interface ModelListInput {
  /** Trimmed values, undefined when unset or empty. */
  MODELS?: string | undefined;
  MODEL_URI?: string | undefined;
  DEFAULT_MODEL?: string | undefined;
  /** Served as if MODELS listed them when neither MODELS nor MODEL_URI is set (outside Lambda). */
  fallback: readonly ModelEntry[];
}

export function resolveModelList(input: ModelListInput): ModelList {
  if (input.MODELS !== undefined && input.MODEL_URI !== undefined) {
    throw new BadRequestError(
      'MODELS and MODEL_URI are both set; MODELS lists every model, the default included',
    );
  }
  if (input.MODEL_URI !== undefined) {
    const uri = input.MODEL_URI;
    const name = input.DEFAULT_MODEL ?? nameFromUri(uri);
    if (input.DEFAULT_MODEL !== undefined) checkName(name, 'DEFAULT_MODEL');
    return { models: [{ name, uri }], defaultModel: name };
  }
  return input.MODELS === undefined
    ? withDefault([...input.fallback], input.DEFAULT_MODEL, 'the bundled models')
    : withDefault(parseModels(input.MODELS), input.DEFAULT_MODEL, 'MODELS');
}

/** The first model is the default unless DEFAULT_MODEL names another of them. */
function withDefault(models: ModelEntry[], named: string | undefined, source: string): ModelList {
  const defaultModel = named ?? models[0]?.name ?? '';
  if (!models.some((m) => m.name === defaultModel)) {
    const names = models.map((m) => m.name).join(', ');
    throw new BadRequestError(`DEFAULT_MODEL ${JSON.stringify(defaultModel)} is not in ${source} (${names})`);
  }
  return { models, defaultModel };
}

/** `name=uri` pairs separated by commas; blank entries (a trailing comma) are ignored. */
export function parseModels(value: string): ModelEntry[] {
  const models: ModelEntry[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const equals = entry.indexOf('=');
    const name = equals < 0 ? '' : entry.slice(0, equals).trim();
    const uri = equals < 0 ? '' : entry.slice(equals + 1).trim();
    if (name === '' || uri === '') {
      throw new BadRequestError(`MODELS entries are name=uri, got ${JSON.stringify(entry)}`);
    }
    checkName(name, 'MODELS');
    if (models.some((m) => m.name === name)) {
      throw new BadRequestError(`MODELS names ${JSON.stringify(name)} twice`);
    }
    models.push({ name, uri });
  }
  if (models.length === 0) throw new BadRequestError('MODELS is set but lists no model');
  return models;
}

function checkName(name: string, variable: string): void {
  if (!MODEL_NAME_PATTERN.test(name)) {
    throw new BadRequestError(
      `${variable} has an invalid model name ${JSON.stringify(name)}: use lower-case letters, digits and dashes (not at either end), at most 63 characters`,
    );
  }
}

/**
 * The name MODEL_URI's model gets when DEFAULT_MODEL does not give one: the URI's last folder that is not
 * a version (…/models/review-sentiment/ and …/models/review-sentiment/<version>/ both give
 * "review-sentiment"), made URL-safe; "default" when nothing usable is left.
 */
export function nameFromUri(uri: string): string {
  const folders = uri
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .split(/[/\\]/)
    .filter((part) => part !== '' && !VERSION_FOLDER.test(part));
  const name = (folders.at(-1) ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return MODEL_NAME_PATTERN.test(name) ? name : 'default';
}
