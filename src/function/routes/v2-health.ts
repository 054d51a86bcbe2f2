/**
 * Open Inference Protocol (KServe v2) server health. Live: the function answers, so it is live. Ready:
 * the default model is loaded (the other models load on first use and have their own ready route). Like
 * GET /health, a ready probe re-tries failed loads whose back-off has passed. Not ready is 503 with
 * Retry-After, as our /health; the protocol only asks for a non-200 status.
 */
import { jsonResponse, retryAfter } from '../http/responses.ts';
import type { RouteHandler } from './route.ts';

export const v2Live: RouteHandler = () => jsonResponse(200, { live: true });

export const v2Ready: RouteHandler = ({ deps }) => {
  deps.models.heal();
  const status = deps.models.default().status();
  const ready = status.state === 'ready';
  return jsonResponse(ready ? 200 : 503, { ready }, status.state === 'failed' ? retryAfter(status) : {});
};
