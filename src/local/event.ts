/**
 * What API Gateway does in front of the function, for the local server: turns a node:http request into
 * a real-shaped HTTP API payload 2.0 event.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** HTTP API request ids look like "JKJaXmPLvHcESHA=" (11 bytes in base64). */
export function gatewayRequestId(): string {
  return randomBytes(11).toString('base64');
}

const TEXT_TYPES =
  /^(text\/|application\/([\w.+-]+\+)?(json|xml)|application\/(javascript|x-www-form-urlencoded))/i;

/** A payload 2.0 event as HTTP API builds it for a `$default` route on the `$default` stage. */
export function toApiGatewayEvent(
  req: IncomingMessage,
  body: Buffer,
  requestId: string,
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const { cookie, ...headers } = joinedHeaders(req);
  const now = new Date();
  const domainName = headers.host ?? 'localhost';
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: accessLogTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
  if (cookie) event.cookies = cookie.split(/;\s*/);
  const query = queryParameters(url.searchParams);
  if (query) event.queryStringParameters = query;
  if (body.byteLength > 0) Object.assign(event, encodeBody(body, headers['content-type']));
  return event;
}

/** HTTP API passes text bodies as strings and base64-encodes everything else. */
function encodeBody(
  body: Buffer,
  contentType: string | undefined,
): { body: string; isBase64Encoded: boolean } {
  if (contentType && TEXT_TYPES.test(contentType)) {
    try {
      return { body: new TextDecoder('utf-8', { fatal: true }).decode(body), isBase64Encoded: false };
    } catch {
      // not UTF-8 after all: fall through to base64
    }
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

/** Lower-case names (node already lower-cases), repeated headers joined with commas as HTTP API does. */
function joinedHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headersDistinct)) {
    if (value) out[name] = value.join(name === 'cookie' ? '; ' : ',');
  }
  return out;
}

function queryParameters(params: URLSearchParams): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const key of new Set(params.keys())) out[key] = params.getAll(key).join(',');
  return Object.keys(out).length > 0 ? out : undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "21/Nov/2026:21:00:00 +0000", the format of requestContext.time. */
function accessLogTime(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${time} +0000`;
}
