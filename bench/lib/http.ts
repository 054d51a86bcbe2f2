/**
 * A lean HTTP client for load generation (node:http, keep-alive): fetch's per-request overhead would be
 * measured as server latency when client and server share the machine.
 */
import { Agent, request } from 'node:http';

export interface HttpResult {
  status: number;
  body: string;
}

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  agent?: Agent;
  timeoutMs?: number;
}

/** One connection per concurrent client, reused across its requests. */
export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

/** Resolves with any status; rejects on connection errors and on `timeoutMs` without a complete answer. */
export function httpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpResult> {
  const { method = 'GET', headers = {}, body, agent, timeoutMs = 30_000 } = options;
  const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, ...length }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.once('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url}: no answer in ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end(body);
  });
}
