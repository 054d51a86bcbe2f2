/**
 * Requests node:http cannot parse never reach the handler (bad request line, malformed or oversized
 * headers, a request too slow to arrive). By default node answers them with a bare "400 Bad Request"
 * and no body; the local server answers with the same problem+json as every other error instead.
 */
import type { Duplex } from 'node:stream';
import {
  headerFieldsTooLarge,
  malformedRequest,
  requestTimeout,
  toProblem,
} from '../function/http/problems.ts';

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/** The error as a client-facing problem: llhttp's codes name what was wrong, never the bytes. */
function problemOf(error: NodeJS.ErrnoException, maxHeaderBytes: number) {
  if (error.code === 'HPE_HEADER_OVERFLOW') return headerFieldsTooLarge(maxHeaderBytes);
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return requestTimeout();
  const why = error.code?.startsWith('HPE_') ? ` (${error.code.slice(4).toLowerCase()})` : '';
  return malformedRequest(`the request is not valid HTTP/1.1${why}`);
}

/** A complete HTTP/1.1 response that closes the connection: after a parse error the stream is unusable. */
export function clientErrorResponse(
  error: NodeJS.ErrnoException,
  requestId: string,
  maxHeaderBytes: number,
): string {
  const { problem } = toProblem(problemOf(error, maxHeaderBytes), requestId);
  const body = JSON.stringify(problem);
  return [
    `HTTP/1.1 ${problem.status} ${REASONS[problem.status] ?? 'Error'}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `apigw-requestid: ${requestId}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * For the server's `clientError` event. A reset connection gets nothing, nor one whose response node has
 * begun (`_httpMessage`, as node's own docs check): a second status line would corrupt it.
 */
export function answerClientError(
  error: NodeJS.ErrnoException,
  socket: Duplex,
  requestId: string,
  maxHeaderBytes: number,
): void {
  if (
    error.code === 'ECONNRESET' ||
    !socket.writable ||
    (socket as { _httpMessage?: unknown })._httpMessage
  ) {
    socket.destroy();
    return;
  }
  socket.end(clientErrorResponse(error, requestId, maxHeaderBytes));
}
