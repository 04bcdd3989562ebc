// One read-only console data route: dependencies built lazily, every failure mapped by the shared route-error mapping
// (code and fixed text only), console headers on every answer.
import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import { CONSOLE_HEADERS } from '../../core/console/console-headers';
import { routeErrorResponse } from '../http/route-error';
import type { RouteDef } from '../route-def';
import type { ConsoleDeps } from './console-deps';

export type ConsoleDataHandler = (req: HttpRequest, deps: ConsoleDeps) => Promise<HttpResponseInit>;

/** Data routes are operator routes (authLevel admin): the route guard requires the operator role in Azure. */
export function consoleDataRoute(name: string, route: string, getDeps: () => Promise<ConsoleDeps>, handle: ConsoleDataHandler): RouteDef {
  const handler: HttpHandler = async (req) => {
    let deps: ConsoleDeps | undefined;
    try {
      deps = await getDeps();
      return withConsoleHeaders(await handle(req, deps));
    } catch (e) {
      return withConsoleHeaders(routeErrorResponse(e, { route, logger: deps?.logger }));
    }
  };
  return { name, methods: ['GET'], route, authLevel: 'admin', handler };
}

export function withConsoleHeaders(res: HttpResponseInit): HttpResponseInit {
  const headers = { ...(res.headers as Record<string, string> | undefined), ...CONSOLE_HEADERS };
  return { ...res, headers };
}
