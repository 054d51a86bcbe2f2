/**
 * The route table: method + path template → the function that answers it. The Lambda is wired to API
 * Gateway as a catch-all, so unknown paths and wrong methods get this table's 404 and 405 (with Allow),
 * both derived from it. A new route is one entry here and one file in this folder.
 */
import { methodNotAllowed, routeNotFound } from '../http/problems.ts';
import { feedback } from './feedback.ts';
import { health } from './health.ts';
import { models } from './models.ts';
import { openapi } from './openapi.ts';
import { page } from './page.ts';
import { modelPredictions, predictions } from './predictions.ts';
import { preflight } from './preflight.ts';
import { rankingsLatest } from './rankings-latest.ts';
import { rankingsPeriod } from './rankings-period.ts';
import type { RouteHandler } from './route.ts';
import { v2Live, v2Ready } from './v2-health.ts';
import { v2Infer } from './v2-infer.ts';
import { v2ModelMetadata, v2ModelReady } from './v2-model.ts';

export type { RouteContext, RouteHandler } from './route.ts';

export const ROUTES: Readonly<Record<string, Readonly<Record<string, RouteHandler>>>> = {
  '/predictions': { POST: predictions },
  '/health': { GET: health },
  '/openapi.json': { GET: openapi },
  '/': { GET: page },
  // Before /rankings/{period}: the first template that fits a path wins.
  '/rankings/latest': { GET: rankingsLatest },
  '/rankings/{period}': { GET: rankingsPeriod },
  '/models': { GET: models },
  '/models/{name}/predictions': { POST: modelPredictions },
  // Open Inference Protocol (KServe v2); errors under /v2 are {"error": "..."} (http/responses.ts).
  '/v2/health/live': { GET: v2Live },
  '/v2/health/ready': { GET: v2Ready },
  '/v2/models/{name}': { GET: v2ModelMetadata },
  '/v2/models/{name}/ready': { GET: v2ModelReady },
  '/v2/models/{name}/infer': { POST: v2Infer },
  '/feedback': { POST: feedback },
};

export interface RouteMatch {
  handler: RouteHandler;
  /** The path template that matched, e.g. "/models/{name}/predictions" (a low-cardinality log field). */
  route: string;
  /** Values of the template's {placeholders}, decoded. */
  params: Record<string, string>;
}

export function matchRoute(method: string, path: string): RouteMatch {
  for (const [route, methods] of Object.entries(ROUTES)) {
    const params = matchTemplate(route, path);
    if (!params) continue;
    const handler = handlerFor(methods, method);
    // Any known path answers a CORS preflight; the table need not list OPTIONS.
    if (!handler && method === 'OPTIONS')
      return { handler: preflight(allowedMethods(methods)), route, params };
    if (!handler) throw methodNotAllowed(method, path, allowedMethods(methods));
    return { handler, route, params };
  }
  throw routeNotFound(path);
}

/** HEAD runs the GET handler (RFC 9110); the handler drops the body (http/middlewares.ts, headResponses). */
function handlerFor(
  methods: Readonly<Record<string, RouteHandler>>,
  method: string,
): RouteHandler | undefined {
  if (Object.hasOwn(methods, method)) return methods[method];
  return method === 'HEAD' && Object.hasOwn(methods, 'GET') ? methods.GET : undefined;
}

function allowedMethods(methods: Readonly<Record<string, RouteHandler>>): string[] {
  const allowed = Object.keys(methods);
  return allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed;
}

/** Segment by segment; `{name}` matches one non-empty segment. Null when the path does not fit. */
function matchTemplate(template: string, path: string): Record<string, string> | null {
  const want = template.split('/');
  const have = path.split('/');
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const segment = have[i] ?? '';
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (name === undefined) {
      if (segment !== part) return null;
    } else {
      if (segment.length === 0) return null;
      params[name] = decodeSegment(segment);
    }
  }
  return params;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
