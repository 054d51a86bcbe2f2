/**
 * The one place API Gateway events become requests: HTTP API (payload 2.0) and REST API proxy (payload
 * 1.0) events are normalised to `HttpRequest`, so nothing after this module knows which one arrived.
 * The handler may be invoked with anything (`sam local invoke`, the console), so every field is checked.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { decodeContentEncoding } from './content-encoding.ts';
import { malformedRequest, payloadTooLarge } from './problems.ts';

export type ApiGatewayEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;

export interface HttpRequest {
  payloadVersion: '1.0' | '2.0';
  method: string;
  /** Route path without the stage prefix or a trailing slash, e.g. "/predictions". */
  path: string;
  /** Lower-cased names. */
  headers: Record<string, string>;
  /** Decoded body bytes (base64 and Content-Encoding undone); empty when there is none. */
  body: Uint8Array;
  requestId: string;
}

/** What logs and problem responses need, read without decoding the body; never throws. */
export interface RequestMeta {
  requestId: string | undefined;
  method: string | undefined;
  path: string | undefined;
}

type Fields = Record<string, unknown>;

function fields(value: unknown): Fields {
  return typeof value === 'object' && value !== null ? (value as Fields) : {};
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function isPayloadV2(event: unknown): event is APIGatewayProxyEventV2 {
  const e = fields(event);
  return e.version === '2.0' && typeof fields(fields(e.requestContext).http).method === 'string';
}

export function isPayloadV1(event: unknown): event is APIGatewayProxyEvent {
  const e = fields(event);
  return typeof e.httpMethod === 'string' && typeof e.path === 'string';
}

export function requestMeta(event: unknown): RequestMeta {
  const context = fields(fields(event).requestContext);
  const requestId = text(context.requestId);
  if (isPayloadV2(event))
    return { requestId, method: event.requestContext.http.method, path: routePath(event) };
  if (isPayloadV1(event)) return { requestId, method: event.httpMethod, path: cleanPath(event.path) };
  return { requestId, method: undefined, path: undefined };
}

/**
 * HTTP API puts a named stage in rawPath ("/prod/predictions"); REST API's `path` has none. Routes are
 * matched without it, and without a trailing slash.
 */
function routePath(event: APIGatewayProxyEventV2): string {
  const raw = text(event.rawPath) ?? text(event.requestContext.http.path) ?? '/';
  const stage = text(event.requestContext.stage);
  const prefix = stage && stage !== '$default' ? `/${stage}` : undefined;
  const path = prefix && (raw === prefix || raw.startsWith(`${prefix}/`)) ? raw.slice(prefix.length) : raw;
  return cleanPath(path);
}

/**
 * Drops trailing slashes with a backward scan, not `/\/+$/`: V8 retries that regex from every slash of a
 * run that does not reach the end, so "/a" + 50k slashes + "b" took seconds (quadratic); this is linear.
 */
function cleanPath(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === SLASH) end--;
  const trimmed = path.slice(0, end);
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

const SLASH = 0x2f;

function lowerCaseHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields(headers))) {
    if (typeof value === 'string') out[name.toLowerCase()] = value;
  }
  return out;
}

/**
 * Checks the decoded size against `maxBodyBytes` before decoding base64, so an oversized body costs
 * no allocation.
 */
export function decodeBody(body: unknown, isBase64Encoded: unknown, maxBodyBytes: number): Uint8Array {
  if (body === null || body === undefined || body === '') return new Uint8Array(0);
  if (typeof body !== 'string') throw malformedRequest('the event body must be a string or null');
  if (isBase64Encoded === true) {
    const padding = body.endsWith('==') ? 2 : body.endsWith('=') ? 1 : 0;
    const estimated = Math.floor((body.length * 3) / 4) - padding;
    if (estimated > maxBodyBytes) throw payloadTooLarge(estimated, maxBodyBytes);
    const bytes = Buffer.from(body, 'base64');
    // Buffer.from skips characters outside the alphabet; only a canonical encoding survives a round trip.
    if (bytes.toString('base64') !== body) throw malformedRequest('the body is not valid base64');
    return bytes;
  }
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > maxBodyBytes) throw payloadTooLarge(bytes, maxBodyBytes);
  return Buffer.from(body, 'utf8');
}

export function toHttpRequest(event: unknown, fallbackRequestId: string, maxBodyBytes: number): HttpRequest {
  const meta = requestMeta(event);
  if (meta.method === undefined || meta.path === undefined || (!isPayloadV2(event) && !isPayloadV1(event))) {
    throw malformedRequest('the event is not an API Gateway proxy event (payload version 1.0 or 2.0)');
  }
  const headers = lowerCaseHeaders(event.headers);
  return {
    payloadVersion: isPayloadV2(event) ? '2.0' : '1.0',
    method: meta.method.toUpperCase(),
    path: meta.path,
    headers,
    body: decodeContentEncoding(
      decodeBody(event.body, event.isBase64Encoded, maxBodyBytes),
      headers['content-encoding'],
      maxBodyBytes,
    ),
    requestId: meta.requestId ?? fallbackRequestId,
  };
}
