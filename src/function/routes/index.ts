/**
 * The route table: method + path template → the function that answers it. The Lambda is wired to API
 * Gateway as a catch-all, so unknown paths and wrong methods get this table's 404 and 405 (with Allow),
 * both derived from it. A new route is one entry here and one file in this folder.
 */
import { methodNotAllowed, routeNotFound } from '../http/problems.ts';
import { feedback } from './feedback.ts';
import { health } from './health.ts';
import { predictions } from './predictions.ts';
import type { RouteHandler } from './route.ts';

export type { RouteContext, RouteHandler } from './route.ts';

export const ROUTES: Readonly<Record<string, Readonly<Record<string, RouteHandler>>>> = {
  '/predictions': { POST: predictions },
  '/health': { GET: health },
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
    const handler = Object.hasOwn(methods, method) ? methods[method] : undefined;
    if (!handler) throw methodNotAllowed(method, path, Object.keys(methods));
    return { handler, route, params };
  }
  throw routeNotFound(path);
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
