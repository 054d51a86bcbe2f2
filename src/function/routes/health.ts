/** GET /health: the model's state and the published limits, without waiting for a load. */
import { healthResponse } from '../http/responses.ts';
import type { RouteHandler } from './route.ts';

export const health: RouteHandler = ({ deps }) => healthResponse(deps.service.status(), deps.config.limits);
