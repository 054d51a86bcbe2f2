/**
 * GET /models: every model this function serves, in MODELS order, without loading any. Version and labels
 * appear once a model is loaded; `retryAfterSeconds` while a failed load backs off.
 */
import { jsonResponse } from '../http/responses.ts';
import type { RouteHandler } from './route.ts';

export const models: RouteHandler = ({ deps }) => {
  const list = deps.models.names().map((name) => {
    const status = deps.models.get(name).status();
    return {
      name,
      default: name === deps.models.defaultName,
      state: status.state,
      version: status.model?.version ?? null,
      labels: status.labels ?? null,
      ...(status.state === 'failed' ? { retryAfterSeconds: status.retryAfterSeconds ?? 0 } : {}),
    };
  });
  return jsonResponse(200, { default: deps.models.defaultName, models: list });
};
