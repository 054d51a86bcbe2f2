/** GET /openapi.json: the API's contract as an OpenAPI 3.1 document, with this deployment's limits. */
import { openApiDocument } from '../contract/openapi.ts';
import { jsonResponse } from '../http/responses.ts';
import type { RouteHandler } from './route.ts';

export const openapi: RouteHandler = ({ deps }) =>
  // Unlike predictions it changes only with a deployment, so clients and proxies may keep it a while.
  jsonResponse(200, openApiDocument(deps.config.limits), { 'cache-control': 'public, max-age=300' });
