/**
 * An independent check of AWS Signature Version 4 on a request as a server receives it (s3rver does not
 * verify v4 signatures). Written from AWS's specification ("Create a signed AWS API request"), not from
 * the SDK, so the SDK's requests validate it and it can then judge ours.
 */
import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
const hex = (data: string) => createHash('sha256').update(data).digest('hex');

/** True when the Authorization header's signature is the one `secret` gives for this request. */
export function sigV4Valid(
  request: { method: string; url: string; headers: IncomingHttpHeaders },
  secret: string,
): boolean {
  const auth = String(request.headers.authorization ?? '');
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!match) return false;
  const [, , day = '', region = '', service = '', signedHeaders = '', signature = ''] = match;
  const [path = '', query = ''] = request.url.split('?');
  // S3 signs the path as sent; the query's pairs sorted, each key and value encoded once.
  const canonicalQuery = query
    .split('&')
    .filter((pair) => pair.length > 0)
    .map((pair) => (pair.includes('=') ? pair : `${pair}=`))
    .sort()
    .join('&');
  const names = signedHeaders.split(';');
  const canonicalHeaders = names
    .map(
      (name) =>
        `${name}:${String(request.headers[name] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonicalRequest = [
    request.method,
    path,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    String(request.headers['x-amz-content-sha256'] ?? ''),
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', request.headers['x-amz-date'], scope, hex(canonicalRequest)].join(
    '\n',
  );
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex') === signature;
}
