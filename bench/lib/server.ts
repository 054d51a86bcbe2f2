/** `npm start`'s server in a child process, and the one request every bench sends it. */

import type { Agent } from 'node:http';
import { join, resolve } from 'node:path';
import { type Child, startChild } from './child.ts';
import { httpRequest } from './http.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SERVER_ENTRY = join(ROOT, 'src', 'local', 'server.ts');
const LISTENING = /listening on (http:\/\/\S+)/;

/** What decides which models a server serves and to whom: given by `env` only, never by the shell. */
const SERVED_BY = ['MODEL_URI', 'MODELS', 'DEFAULT_MODEL', 'CORS_ALLOW_ORIGINS'];

/**
 * `npm start`'s entry on a free loopback port; resolves once it listens (its init has loaded the default
 * model by then). Benchmarks and the integration tests start their servers here.
 */
export async function startServerChild(
  env: Record<string, string>,
): Promise<{ child: Child; url: string; listeningMs: number }> {
  const child = startChild(process.execPath, [SERVER_ENTRY], {
    cwd: ROOT,
    env: { PORT: '0', HOST: '127.0.0.1', ...env },
    unset: SERVED_BY,
  });
  try {
    const { match, ms } = await child.waitForLine(LISTENING, { timeoutMs: 60_000 });
    return { child, url: match[1] ?? '', listeningMs: ms };
  } catch (error) {
    await child.stop('SIGKILL');
    throw error;
  }
}

export function postPredictions(url: string, body: string, agent?: Agent) {
  return httpRequest(`${url}/predictions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    ...(agent ? { agent } : {}),
  });
}
