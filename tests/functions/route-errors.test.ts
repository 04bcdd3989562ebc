// T1-I: no route returns an error's own message. Every dependency of every route in the route table throws errors
// carrying a distinctive text (KarsErrors of several codes, and a plain Error as a bug would); each route answers
// with the code's status and a fixed public message, and the text never appears in a response.
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { createAppHooks } from '../../functions/app-hooks';
import { buildAppRoutes } from '../../functions/routes';
import { httpStatusOf, KarsError, type KarsErrorCode } from '../../core/errors';
import { silentLogger } from '../../core/ports/logger.port';
import type { HookRouteDeps } from '../../functions/hooks/hook-routes';
import type { OrchestrationClient } from '../../core/ports/orchestration-client.port';
import { SANDBOX_ROLLOUT_ORCHESTRATOR } from '../../functions/rollouts/rollout-names';

const PLANTED = 'PLANTED-internal-detail-7c1e https://kars-prod.documents.azure.com key=abc123';

type Thrower = () => never;
const CASES: Array<[string, Thrower, number]> = [
  ...(['INPUT_INVALID', 'STORE_CONFLICT', 'STORE_UNAVAILABLE', 'SECRET_UNAVAILABLE', 'ORCHESTRATION_FAILED', 'ORCHESTRATION_INSTANCE_EXISTS', 'CONFIG_INVALID'] as KarsErrorCode[])
    .map((code): [string, Thrower, number] => [code, () => { throw new KarsError(code, PLANTED); }, httpStatusOf(code)]),
  ['a plain Error (a bug)', () => { throw new Error(PLANTED); }, 500],
];

function depsThrowing(fail: Thrower): HookRouteDeps {
  return {
    registry: { lookup: async () => fail(), get: async () => fail(), create: async () => fail(), rotate: async () => fail() },
    replayGuard: { claim: async () => fail() },
    limiter: { admit: async () => fail() },
    queue: { enqueue: async () => fail() },
    receipts: { append: async () => fail() },
    clock: { nowMs: () => 1_760_000_000_000 },
    logger: silentLogger,
  };
}

function clientThrowing(fail: Thrower, abortOnly: boolean): OrchestrationClient {
  // Waiting for approval of batch 1, so approve (like abort) gets past its checks to the throwing raiseEvent.
  const status = { instanceId: 'r-1', name: SANDBOX_ROLLOUT_ORCHESTRATOR, runtimeStatus: 'Running', customStatus: { awaitingApproval: 1 }, createdTime: '', lastUpdatedTime: '' };
  return {
    startNew: async () => fail(),
    getStatus: async () => (abortOnly ? status : fail()),
    raiseEvent: async () => fail(),
    terminate: async () => fail(),
  } as unknown as OrchestrationClient;
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const DID = 'did:mesh:0123456789abcdef0123456789abcdef';
const REQUESTS: Record<string, () => HttpRequest> = {
  health: () => new HttpRequest({ method: 'GET', url: 'http://local/api/health' }),
  hooksReceive: () => new HttpRequest({ method: 'POST', url: 'http://local/api/hooks/standard/hk-leak', headers: JSON_HEADERS, params: { channel: 'standard', hookId: 'hk-leak' }, body: { string: '{"type":"kars.demo"}' } }),
  hooksCreate: () => new HttpRequest({ method: 'POST', url: 'http://local/api/manage/hooks', headers: JSON_HEADERS, body: { string: JSON.stringify({ tenantId: 't', sandboxId: 's', channel: 'github', allowedEventTypes: ['push'], secret: 'a-github-secret-long-enough' }) } }),
  hooksGet: () => new HttpRequest({ method: 'GET', url: 'http://local/api/manage/hooks/hk-leak', params: { hookId: 'hk-leak' } }),
  hooksRotate: () => new HttpRequest({ method: 'POST', url: 'http://local/api/manage/hooks/hk-leak/rotate', headers: JSON_HEADERS, params: { hookId: 'hk-leak' }, body: { string: JSON.stringify({ secret: 'another-github-secret-long-enough' }) } }),
  rolloutStart: () => new HttpRequest({ method: 'POST', url: 'http://local/api/rollouts', headers: JSON_HEADERS, body: { string: JSON.stringify({ revision: { id: 'v2', spec: {} }, sandboxIds: ['sb-1'] }) } }),
  rolloutStatus: () => new HttpRequest({ method: 'GET', url: 'http://local/api/rollouts/r-1', params: { instanceId: 'r-1' } }),
  rolloutAbort: () => new HttpRequest({ method: 'POST', url: 'http://local/api/rollouts/r-1/abort', params: { instanceId: 'r-1' } }),
  rolloutApprove: () => new HttpRequest({ method: 'POST', url: 'http://local/api/rollouts/r-1/approve', headers: JSON_HEADERS, params: { instanceId: 'r-1' }, body: { string: '{"batch":1}' } }),
  meshRegisterAgent: () => new HttpRequest({ method: 'POST', url: 'http://local/api/mesh/v1/agents', headers: JSON_HEADERS, body: { string: '{}' } }),
  meshAgent: () => new HttpRequest({ method: 'GET', url: `http://local/api/mesh/v1/agents/${DID}`, params: { did: DID } }),
  meshPrekeys: () => new HttpRequest({ method: 'GET', url: `http://local/api/mesh/v1/agents/${DID}/prekeys`, params: { did: DID } }),
  meshDiscover: () => new HttpRequest({ method: 'GET', url: 'http://local/api/mesh/v1/discover?capability=x' }),
  meshRelayPost: () => new HttpRequest({ method: 'POST', url: 'http://local/api/mesh/relay/frames', headers: JSON_HEADERS, body: { string: '{}' } }),
  meshRelayPending: () => new HttpRequest({ method: 'POST', url: 'http://local/api/mesh/relay/pending', headers: JSON_HEADERS, body: { string: '{}' } }),
  meshRelayAck: () => new HttpRequest({ method: 'POST', url: 'http://local/api/mesh/relay/ack', headers: JSON_HEADERS, body: { string: '{}' } }),
  trustUpdates: () => new HttpRequest({ method: 'POST', url: 'http://local/api/trust/updates', headers: JSON_HEADERS, body: { string: '{}' } }),
  trustGraph: () => new HttpRequest({ method: 'GET', url: 'http://local/api/trust/graph?tenant=t' }),
  trustScore: () => new HttpRequest({ method: 'GET', url: `http://local/api/trust/scores/${DID}?tenant=t&observer=s`, params: { did: DID } }),
  auditRouterReceipts: () => new HttpRequest({ method: 'POST', url: 'http://local/api/audit/router-receipts', headers: JSON_HEADERS, body: { string: '{}' } }),
  routerTrustScore: () => new HttpRequest({ method: 'GET', url: `http://local/api/mesh/trust/scores/${DID}?tenant=t`, params: { did: DID }, headers: { 'x-kars-router-token': 'a.b.c' } }),
  routerTrustVersion: () => new HttpRequest({ method: 'GET', url: 'http://local/api/mesh/trust/version?tenant=t', headers: { 'x-kars-router-token': 'a.b.c' } }),
  consolePage: () => new HttpRequest({ method: 'GET', url: 'http://local/api/console/app.js', params: { asset: 'app.js' } }),
  consoleEdge: () => new HttpRequest({ method: 'GET', url: 'http://local/api/console/data/edge?minutes=5' }),
  consoleChains: () => new HttpRequest({ method: 'GET', url: 'http://local/api/console/data/audit/chains' }),
  consoleVerify: () => new HttpRequest({ method: 'GET', url: 'http://local/api/console/data/audit/verify?chain=audit-00' }),
  consoleReceipt: () => new HttpRequest({ method: 'GET', url: 'http://local/api/console/data/audit/receipts/audit-00:000000000001:000', params: { receiptId: 'audit-00:000000000001:000' } }),
  trustIssuersPut: () => new HttpRequest({ method: 'PUT', url: 'http://local/api/manage/trust/issuers/t', headers: JSON_HEADERS, params: { tenantId: 't' }, body: { string: '{}' } }),
};

async function bodyText(res: HttpResponseInit): Promise<string> {
  if (res.jsonBody !== undefined) return JSON.stringify(res.jsonBody);
  return typeof res.body === 'string' ? res.body : '';
}

describe('no route returns an internal error message', () => {
  it.each(CASES)('dependencies throwing %s', async (_label, fail, status) => {
    const health = async () => ({ probes: [{ name: 'cosmos', check: async () => fail() }], timeoutMs: 500 });
    // Local mode's guard (no Entra settings: the host's key check only), so each request reaches its throwing dependency.
    const guard = { operatorAuthenticator: () => undefined, logger: silentLogger };
    const routes = buildAppRoutes({ health, hookDeps: async () => depsThrowing(fail), rolloutClient: () => clientThrowing(fail, false), meshDeps: async () => fail(), trustDeps: async () => fail(), routerAuditDeps: async () => fail(), routerAuthenticator: async () => fail(), consoleDeps: async () => fail(), consoleAsset: () => fail(), logger: silentLogger }, createAppHooks(), guard);
    const abortRoutes = buildAppRoutes({ health, hookDeps: async () => depsThrowing(fail), rolloutClient: () => clientThrowing(fail, true), meshDeps: async () => fail(), trustDeps: async () => fail(), routerAuditDeps: async () => fail(), routerAuthenticator: async () => fail(), consoleDeps: async () => fail(), consoleAsset: () => fail(), logger: silentLogger }, createAppHooks(), guard);
    expect(routes.map((r) => r.name).sort()).toEqual(Object.keys(REQUESTS).sort());
    const seen: Array<[string, number]> = [];
    for (const route of [...routes, ...abortRoutes.filter((r) => r.name === 'rolloutAbort' || r.name === 'rolloutApprove')]) {
      const res = await route.handler(REQUESTS[route.name]!(), new InvocationContext());
      const text = await bodyText(res);
      expect(text, route.name).not.toContain('PLANTED');
      expect(text, route.name).not.toContain('documents.azure.com');
      expect(res.status ?? 200, route.name).toBeGreaterThanOrEqual(400);
      seen.push([route.name, res.status ?? 200]);
    }
    // The routes that reach a throwing dependency answer with that error's status (or a generic one at the edge and
    // health, which never tell a caller which dependency failed or how).
    const byName = Object.fromEntries(seen);
    for (const name of ['hooksCreate', 'hooksGet', 'hooksRotate', 'rolloutStart', 'rolloutStatus', 'rolloutAbort', 'rolloutApprove']) expect(byName[name], name).toBe(status);
  });
});
