/**
 * `Content-Encoding` of a request body: gzip, deflate (zlib format, RFC 9110) and br are decoded; so a
 * compressed body meets the same MAX_BODY_BYTES as a plain one, the limit is applied to the DECODED size.
 * zlib's `maxOutputLength` makes decoding stop as soon as the output passes the limit, so a zip bomb
 * (200 MB of zeros in 200 kB of gzip) is refused with 413 after ~1 ms instead of being inflated.
 * Synchronous on purpose: bodies are at most ~1 MB decoded and the Lambda serves one request at a time.
 * Stacked codings ("gzip, br") and unknown ones are refused with 415 and an `Accept-Encoding` list.
 */
import { brotliDecompressSync, gunzipSync, inflateSync, type ZlibOptions } from 'node:zlib';
import { decodedTooLarge, malformedRequest, unsupportedContentEncoding } from './problems.ts';

type Decoder = (body: Uint8Array, options: ZlibOptions) => Buffer;

const DECODERS: Readonly<Record<string, Decoder>> = {
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
};

export const ACCEPTED_CONTENT_ENCODINGS = ['gzip', 'deflate', 'br'] as const;

/** The body with its content coding undone, at most `maxBytes` long. */
export function decodeContentEncoding(
  body: Uint8Array,
  contentEncoding: string | undefined,
  maxBytes: number,
): Uint8Array {
  const coding = (contentEncoding ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return body;
  const decode = Object.hasOwn(DECODERS, coding) ? DECODERS[coding] : undefined;
  if (!decode) throw unsupportedContentEncoding(contentEncoding ?? '', ACCEPTED_CONTENT_ENCODINGS);
  if (body.byteLength === 0) return body;
  try {
    return decode(body, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
      throw decodedTooLarge(coding, maxBytes);
    throw malformedRequest(`the body is not valid ${coding === 'x-gzip' ? 'gzip' : coding}`);
  }
}
