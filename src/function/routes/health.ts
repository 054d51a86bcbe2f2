/**
 * GET /health: the default model's state and the published limits, without waiting for a load. A probe
 * also heals: a model whose last load failed starts loading again once its back-off has passed, so a
 * monitor sees recovery without sending predictions.
 */
import { healthResponse } from '../http/responses.ts';
import type { RouteHandler } from './route.ts';

export const health: RouteHandler = ({ deps }) => {
  deps.models.heal();
  return healthResponse(deps.models.default().status(), deps.config.limits);
};
