// LOCAL STAND-IN for the Service Bus management plane (what Bicep / ARM does in Azure, T1-E): creates and deletes
// queues and role assignments on the running broker, so a sandbox's events queue and its receive-only grant appear
// when the sandbox is created and go with it. Loopback HTTP, behind the stack's admin key (../admin-key.ts).
import * as http from 'node:http';
import { silentLogger, type Logger } from '../../../core/ports/logger.port';
import { hasAdminKey, MIN_ADMIN_KEY_LENGTH } from '../admin-key';
import { closeServer, listen, logRequest, pathSegments, readBody, sendJson } from '../identity/local-http';
import { checkRoleAssignment, type AuthorizationTable } from './broker-authorization';
import type { QueueStore } from './queue-store';

const MAX_BODY_BYTES = 16 * 1024;

export interface BrokerAdminServer {
  url: string;
  stop(): Promise<void>;
}

export interface StartBrokerAdminOptions {
  store: QueueStore;
  table: AuthorizationTable;
  adminKey: string;
  port?: number;
  logger?: Logger;
}

/**
 * Routes: PUT/DELETE /queues/{name} (body: queue options without name), PUT/DELETE /role-assignments/{id} (body:
 * principalId, scope, role), GET /role-assignments. Deleting a queue deletes the role assignments scoped to it.
 */
export async function startBrokerAdminServer(options: StartBrokerAdminOptions): Promise<BrokerAdminServer> {
  if (options.adminKey.length < MIN_ADMIN_KEY_LENGTH) throw new RangeError('"adminKey" is too short');
  const logger = options.logger ?? silentLogger;
  const { store, table } = options;
  const server = http.createServer((req, res) => {
    let route = 'unmatched';
    logRequest(logger, 'servicebus.admin', req, res, () => route);
    if (!hasAdminKey(req, options.adminKey)) return sendJson(res, 401, { code: 'AUTH_REQUIRED' });
    const seg = pathSegments(req.url);
    const [kind, id] = seg ?? [];
    if (!seg || seg.length > 2 || id === undefined && !(kind === 'role-assignments' && req.method === 'GET')) {
      return sendJson(res, 404, { code: 'NOT_FOUND' });
    }
    void (async () => {
      if (kind === 'queues') {
        route = '/queues/{name}';
        if (req.method === 'PUT') {
          const body = await jsonBody(req);
          store.createQueue({ ...(body as object), name: id! });
          return sendJson(res, 200, { name: id });
        }
        if (req.method === 'DELETE') {
          table.removeScope(id!);
          store.deleteQueue(id!);
          res.writeHead(204).end();
          return;
        }
      }
      if (kind === 'role-assignments') {
        route = id === undefined ? '/role-assignments' : '/role-assignments/{id}';
        if (req.method === 'GET' && id === undefined) return sendJson(res, 200, { value: table.list() });
        if (req.method === 'PUT') {
          const body = await jsonBody(req);
          const assignment = checkRoleAssignment({ ...(body as object), id });
          table.assign(assignment);
          return sendJson(res, 200, assignment);
        }
        if (req.method === 'DELETE') {
          table.remove(id!);
          res.writeHead(204).end();
          return;
        }
      }
      sendJson(res, 405, { code: 'METHOD_NOT_ALLOWED' });
    })().catch((e: unknown) => {
      sendJson(res, 400, { code: 'INPUT_INVALID', message: e instanceof TypeError ? e.message : 'bad request' });
    });
  });
  const port = await listen(server, options.port ?? 0);
  return { url: `http://127.0.0.1:${port}`, stop: () => closeServer(server) };
}

async function jsonBody(req: http.IncomingMessage): Promise<unknown> {
  const raw = await readBody(req, MAX_BODY_BYTES);
  if (!raw) throw new TypeError('body too large');
  if (raw.length === 0) return {};
  const value: unknown = JSON.parse(raw.toString('utf8'));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('body must be a JSON object');
  return value;
}
