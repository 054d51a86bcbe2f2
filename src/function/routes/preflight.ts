/**
 * OPTIONS on a known path: a CORS preflight. It is answered here, from the route table, rather than by
 * @middy/http-cors's own preflight response, so preflights get the request log like every request, an
 * unknown path still gets 404, and Access-Control-Allow-Methods lists the path's real methods. Whether
 * the origin may call at all is http-cors's decision (Access-Control-Allow-Origin, added after routing).
 */
import type { RouteHandler } from './route.ts';

/** Headers a browser may send cross-origin: JSON bodies, and the credentials of IAM or JWT auth. */
export const CORS_ALLOW_HEADERS = [
  'authorization',
  'content-type',
  'x-amz-content-sha256',
  'x-amz-date',
  'x-amz-security-token',
];

/** Seconds a browser may reuse a preflight's answer. */
export const CORS_MAX_AGE_SECONDS = 600;

export function preflight(methods: readonly string[]): RouteHandler {
  const allowed = [...methods, 'OPTIONS'].join(', ');
  return () => ({
    statusCode: 204,
    headers: {
      allow: allowed,
      'access-control-allow-methods': allowed,
      'access-control-allow-headers': CORS_ALLOW_HEADERS.join(', '),
      'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
      'cache-control': 'no-store',
    },
    body: '',
    isBase64Encoded: false,
  });
}
