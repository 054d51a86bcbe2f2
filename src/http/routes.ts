/**
 * The API's routes. The function is wired to API Gateway as a catch-all ($default / ANY /{proxy+}),
 * so unknown paths and wrong methods get this API's 404 and 405 (with Allow) as problem+json.
 */
import { MethodNotAllowedError, NotFoundError } from '../errors.ts';

export type RouteName = 'predict' | 'health';

export const ROUTES: Readonly<Record<string, Readonly<Record<string, RouteName>>>> = {
  '/predictions': { POST: 'predict' },
  '/health': { GET: 'health' },
};

export function matchRoute(method: string, path: string): RouteName {
  const methods = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
  if (!methods) throw new NotFoundError(path);
  const route = Object.hasOwn(methods, method) ? methods[method] : undefined;
  if (!route) throw new MethodNotAllowedError(method, path, Object.keys(methods));
  return route;
}
