/**
 * Reads a request body as JSON. Accepted content types: application/json and any application/*+json,
 * in UTF-8 (RFC 8259 JSON is UTF-8, so another charset is refused rather than misread). A missing
 * content-type is read as JSON: the API speaks nothing else, and simple clients often omit it. Anything
 * else (text/plain, curl's default form encoding) gets 415, telling the caller to fix the header.
 */
import type { HttpRequest } from './event.ts';
import { malformedRequest, unsupportedMediaType } from './problems.ts';

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;

export function assertJsonContentType(contentType: string | undefined): void {
  if (contentType === undefined || contentType.trim() === '') return;
  const [mediaType = '', ...parameters] = contentType.split(';').map((part) => part.trim().toLowerCase());
  const charset = parameters.find((p) => p.startsWith('charset='))?.slice('charset='.length);
  const utf8 = charset === undefined || ['utf-8', 'utf8', '"utf-8"'].includes(charset);
  if (!JSON_MEDIA_TYPE.test(mediaType) || !utf8) throw unsupportedMediaType(contentType);
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function parseJsonBody(request: HttpRequest): unknown {
  assertJsonContentType(request.headers['content-type']);
  if (request.body.byteLength === 0) {
    throw malformedRequest('the request body is empty; send a JSON array of review strings');
  }
  let source: string;
  try {
    source = utf8Decoder.decode(request.body);
  } catch {
    throw malformedRequest('the request body is not valid UTF-8');
  }
  try {
    return JSON.parse(source);
  } catch (error) {
    throw malformedRequest(`the request body is not valid JSON${position(error)}`);
  }
}

/**
 * V8's messages may quote the body ("Unexpected token 'T', "The book w"..."); the response and the logs
 * must not carry review text, so only the position is kept.
 */
function position(error: unknown): string {
  const match = error instanceof Error ? /at position (\d+)/.exec(error.message) : null;
  return match ? ` (at character ${match[1]})` : '';
}

/** A JSON object (JSON Schema's "object": not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
