// Local Cosmos stand-in: cosmosdb-server's request loop (its `handleRequest`, 0.13.4, MIT), with one change: no
// response leaves before every change made so far is on disk, so an acknowledged write survives a crash and no
// answer shows state that a crash could take back.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Account from '@zeit/cosmosdb-server/lib/account';
import routes from '@zeit/cosmosdb-server/lib/routes';

type Handler = (account: Account, req: IncomingMessage, res: ServerResponse, params: unknown) => unknown;

const QUERY_METRICS =
  'totalExecutionTimeInMs=0.00;queryCompileTimeInMs=0.00;queryLogicalPlanBuildTimeInMs=0.00;queryPhysicalPlanBuildTimeInMs=0.00;queryOptimizationTimeInMs=0.00;VMExecutionTimeInMs=0.00;indexLookupTimeInMs=0.00;documentLoadTimeInMs=0.00;systemFunctionExecuteTimeInMs=0.00;userFunctionExecuteTimeInMs=0.00;retrievedDocumentCount=0;retrievedDocumentSize=0;outputDocumentCount=1;outputDocumentSize=0;writeOutputTimeInMs=0.00;indexUtilizationRatio=0.00';

export interface Durability {
  /** Resolves once every change made so far is on disk; rejects when the journal has failed. */
  durable(): Promise<void>;
  /** True once the journal failed: the server then refuses everything (fail-stop). */
  failed(): boolean;
}

/** Always-durable stand-in for a server without a data directory (memory only, as before). */
export const IN_MEMORY: Durability = { durable: () => Promise.resolve(), failed: () => false };

const unavailable = (res: ServerResponse): void => {
  res.removeHeader('etag');
  res.statusCode = 503;
  res.setHeader('content-type', 'application/json');
  res.setHeader('connection', 'close');
  res.end(JSON.stringify({ code: 'ServiceUnavailable', message: 'local store journal failed' }));
};

export function handleCosmosRequest(account: Account, durability: Durability, req: IncomingMessage, res: ServerResponse): void {
  if (durability.failed()) {
    unavailable(res);
    return;
  }
  const route = routes(req) as [unknown, Handler] | undefined;
  void (async () => {
    let body: Record<string, unknown> | undefined;
    if (route) {
      const [params, handler] = route;
      try {
        body = (await handler(account, req, res, params)) as Record<string, unknown> | undefined;
      } catch (err) {
        // The server's own message for a bug in its handler; never a request body or key.
        body = { message: err instanceof Error ? err.message : '' };
        res.statusCode = 500;
      }
      if (res.statusCode > 399 && body && !body.message) body.message = '';
    } else {
      res.statusCode = 400;
      body = { message: 'no route' };
    }
    if (typeof body?._etag === 'string') res.setHeader('etag', body._etag);
    res.setHeader('content-type', 'application/json');
    res.setHeader('content-location', `https://${req.headers.host ?? ''}${req.url ?? ''}`);
    res.setHeader('connection', 'close');
    res.setHeader('x-ms-activity-id', randomUUID());
    res.setHeader('x-ms-request-charge', '1');
    if (req.headers['x-ms-documentdb-populatequerymetrics']) res.setHeader('x-ms-documentdb-query-metrics', QUERY_METRICS);
    if (req.headers['a-im'] && res.statusCode === 200) {
      if (req.headers['if-none-match']) res.statusCode = 304;
      res.setHeader('etag', '1');
    }
    try {
      await durability.durable();
    } catch {
      unavailable(res);
      return;
    }
    res.end(JSON.stringify(body));
  })().catch(() => {
    if (!res.writableEnded) {
      res.statusCode = 500;
      res.end('');
    }
  });
}
