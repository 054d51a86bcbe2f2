/** GET /: the page to try the API in a browser (src/function/page/try-it.ts). */
import { TRY_IT_CSP, TRY_IT_HTML } from '../page/try-it.ts';
import type { RouteHandler } from './route.ts';

export const page: RouteHandler = () => ({
  statusCode: 200,
  headers: {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': TRY_IT_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  },
  body: TRY_IT_HTML,
  isBase64Encoded: false,
});
