// GET /api/console/{asset?}: the console page and its bundled script and style. Anonymous so a browser can load it
// (it holds no data and no secret); in Azure, App Service Authentication stands in front of it (bicep), and every
// data route it calls is an operator route. Strict CSP and no caching on every file (core/console/console-headers.ts).
import type { HttpHandler } from '@azure/functions';
import { errorResponse } from '../http/json-response';
import { routeErrorResponse } from '../http/route-error';
import type { RouteDef } from '../route-def';
import type { ConsoleAsset } from './console-assets';
import { withConsoleHeaders } from './console-data-route';

export function consolePageRoute(asset: (name: string) => ConsoleAsset | undefined): RouteDef {
  const handler: HttpHandler = async (req) => {
    try {
      const name = req.params['asset'] ?? 'index.html';
      const file = asset(name);
      if (!file) return withConsoleHeaders(errorResponse('NOT_FOUND', 'not found'));
      return withConsoleHeaders({ status: 200, body: file.body, headers: { 'content-type': file.contentType } });
    } catch (e) {
      return withConsoleHeaders(routeErrorResponse(e, { route: 'console/{asset?}' }));
    }
  };
  return { name: 'consolePage', methods: ['GET'], route: 'console/{asset?}', authLevel: 'anonymous', behindSignIn: true, handler };
}
