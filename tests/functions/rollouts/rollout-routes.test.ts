// Rollout HTTP routes end to end: served by the local Functions host, backed by the local Durable runner on Azurite
// and the in-memory SandboxDriver. Start, status/progress, history, approval of gated batches, abort, and every
// refusal with its code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { startAzurite, type AzuriteHandle } from '../../../infra/local/azurite/start-azurite';
import { startLocalDurableRunner, type LocalDurableRunner } from '../../../infra/local/durable/local-durable-runner';
import { startLocalHost, type LocalHost } from '../../../infra/local/host/local-host';
import { DurableRegistry, registerOrchestration } from '../../../adapters/durable/durable-registry';
import { MemorySandboxDriver } from '../../../adapters/memory/memory-sandbox-driver';
import { registerRolloutFunctions } from '../../../functions/rollouts/register-rollout-functions';
import { createRolloutRoutes } from '../../../functions/rollouts/rollout-routes';
import { MAX_ROLLOUT_REQUEST_BYTES } from '../../../functions/rollouts/rollout-schema';
import { silentLogger } from '../../../core/ports/logger.port';
import { redact } from '../../../core/secrets/redacted';
import type { RolloutProgress, RolloutResult } from '../../../core/rollouts/rollout-ledger';

const keys = { functionKey: 'fk-rollout-test', masterKey: 'mk-rollout-test' };
const driver = new MemorySandboxDriver({ readyAfterChecks: 1 });
const registry = new DurableRegistry();
registerRolloutFunctions({ getSandboxDriver: () => driver }, { registry, azure: false });
registerOrchestration('notARollout', function* (ctx) {
  yield ctx.df.waitForExternalEvent('never');
}, { registry, azure: false });

let azurite: AzuriteHandle;
let runner: LocalDurableRunner;
let host: LocalHost;
const routes = createRolloutRoutes({ getClient: () => runner });

beforeAll(async () => {
  azurite = await startAzurite({ blobPort: 0, queuePort: 0, tablePort: 0 });
  runner = await startLocalDurableRunner({ connectionString: redact(azurite.connectionString), taskHub: 'RolloutRoutes', registry, pollIntervalMs: 250 });
  host = await startLocalHost({ routes, keys, logger: silentLogger, port: 0 });
});

afterAll(async () => {
  await host?.close();
  await runner?.stop();
  await azurite?.stop();
});

const json = { 'content-type': 'application/json', 'x-functions-key': keys.functionKey };
const fast = { health: { intervalMs: 50, maxChecks: 20 }, applyRetry: { intervalMs: 10, maxAttempts: 2 } };

function fleet(prefix: string, n: number): string[] {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  for (const id of ids) driver.addSandbox(id, { id: 'v1', spec: { image: 'agent:1' } });
  return ids;
}

async function post(path: string, body: unknown, headers: Record<string, string> = json): Promise<Response> {
  return fetch(`${host.url}/api/${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function get(path: string): Promise<Response> {
  return fetch(`${host.url}/api/${path}`, { headers: { 'x-functions-key': keys.functionKey } });
}

async function until(instanceId: string, done: (b: { runtimeStatus: string; progress: unknown }) => boolean) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = await get(`rollouts/${instanceId}`);
    expect(r.status).toBe(200);
    const b = (await r.json()) as { runtimeStatus: string; progress: RolloutProgress | null; output: unknown };
    if (done(b)) return b;
    if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(b)}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

describe('rollout routes', () => {
  it('are four function-key routes carrying the Durable client binding', () => {
    expect(routes.map((r) => [r.name, r.methods.join(','), r.route, r.authLevel])).toEqual([
      ['rolloutStart', 'POST', 'rollouts', 'function'],
      ['rolloutStatus', 'GET', 'rollouts/{instanceId}', 'function'],
      ['rolloutApprove', 'POST', 'rollouts/{instanceId}/approve', 'function'],
      ['rolloutAbort', 'POST', 'rollouts/{instanceId}/abort', 'function'],
    ]);
    for (const r of routes) expect(r.extraInputs?.map((i) => i.type)).toEqual(['durableClient']);
  });

  it('refuses callers without a function key', async () => {
    const r = await fetch(`${host.url}/api/rollouts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(r.status).toBe(401);
  });

  it('starts a rollout (202 + Location) and shows its progress and result', async () => {
    const ids = fleet('route-ok', 3);
    const r = await post('rollouts', { revision: { id: 'v2', spec: { image: 'agent:2' } }, sandboxIds: ids, maxUnavailable: 2, ...fast });
    expect(r.status).toBe(202);
    const started = (await r.json()) as { instanceId: string; statusUri: string; abortUri: string; batches: number; total: number };
    expect(r.headers.get('location')).toBe(`/api/rollouts/${started.instanceId}`);
    expect(started).toMatchObject({ statusUri: `/api/rollouts/${started.instanceId}`, batches: 2, total: 3 });
    const final = await until(started.instanceId, (b) => b.runtimeStatus === 'Completed');
    expect((final as unknown as { output: RolloutResult }).output).toMatchObject({ outcome: 'Succeeded', succeeded: ids });
    expect(final.progress).toMatchObject({ phase: 'succeeded', done: 3, total: 3, failed: 0, currentBatch: 2, batches: 2 });
    const withHistory = (await (await get(`rollouts/${started.instanceId}?history=true`)).json()) as { history: Array<{ eventType: string; name?: string }> };
    expect(withHistory.history.filter((e) => e.eventType === 'TaskScheduled' && e.name === 'applySandboxRevision')).toHaveLength(3);
  });

  it('honours a caller-chosen instance id and refuses it again while that rollout runs', async () => {
    const ids = fleet('route-dup', 1);
    driver.setBehaviour(ids[0]!, { neverReady: true });
    const body = { instanceId: 'rollout-fixed-1', revision: { id: 'v2', spec: {} }, sandboxIds: ids, health: { intervalMs: 100, maxChecks: 1000 } };
    const first = await post('rollouts', body);
    expect(first.status).toBe(202);
    expect(((await first.json()) as { instanceId: string }).instanceId).toBe('rollout-fixed-1');
    const again = await post('rollouts', body);
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({ code: 'ORCHESTRATION_INSTANCE_EXISTS', message: expect.any(String) });

    // Abort it: the route raises the abort event, the rollout rolls back, a second abort is refused.
    const abort = await post('rollouts/rollout-fixed-1/abort', '', { 'x-functions-key': keys.functionKey });
    expect(abort.status).toBe(202);
    driver.setBehaviour(ids[0]!, {});
    const final = await until('rollout-fixed-1', (b) => b.runtimeStatus === 'Completed');
    expect((final as unknown as { output: RolloutResult }).output).toMatchObject({ outcome: 'RolledBack', haltReason: 'aborted', rolledBack: ids });
    const late = await post('rollouts/rollout-fixed-1/abort', '', { 'x-functions-key': keys.functionKey });
    expect(late.status).toBe(409);
    expect(((await late.json()) as { code: string }).code).toBe('ORCHESTRATION_NOT_RUNNING');
  });

  it('waits for approval before a gated batch; approve names the waiting batch, a wrong or late one is refused', async () => {
    const ids = fleet('route-approve', 2);
    const r = await post('rollouts', { revision: { id: 'v2', spec: {} }, sandboxIds: ids, approval: { batches: [2] }, ...fast });
    expect(r.status).toBe(202);
    const { instanceId, approveUri } = (await r.json()) as { instanceId: string; approveUri: string };
    expect(approveUri).toBe(`/api/rollouts/${instanceId}/approve`);
    // Batch 1 rolls without asking; batch 2 waits (nothing applied to its sandbox meanwhile).
    const waiting = await until(instanceId, (b) => (b.progress as RolloutProgress | null)?.phase === 'awaiting-approval');
    expect(waiting.progress).toMatchObject({ awaitingApproval: 2, currentBatch: 2, done: 1 });
    expect(driver.current(ids[1]!)?.id).toBe('v1');
    for (const [body, code] of [[{ batch: 1 }, 'ROLLOUT_NOT_AWAITING_APPROVAL'], [{ batch: 3 }, 'ROLLOUT_NOT_AWAITING_APPROVAL'], [{}, 'INPUT_INVALID']] as const) {
      const wrong = await post(`rollouts/${instanceId}/approve`, body);
      expect(wrong.status, JSON.stringify(body)).toBe(code === 'INPUT_INVALID' ? 400 : 409);
      expect(((await wrong.json()) as { code: string }).code).toBe(code);
    }
    const ok = await post(`rollouts/${instanceId}/approve`, { batch: 2 });
    expect(ok.status).toBe(202);
    const final = await until(instanceId, (b) => b.runtimeStatus === 'Completed');
    expect((final as unknown as { output: RolloutResult }).output).toMatchObject({ outcome: 'Succeeded', succeeded: ids });
    const late = await post(`rollouts/${instanceId}/approve`, { batch: 2 });
    expect(late.status).toBe(409);
  });

  it('halts and rolls back when no approval comes in time', async () => {
    const ids = fleet('route-noapprove', 2);
    const r = await post('rollouts', { revision: { id: 'v2', spec: {} }, sandboxIds: ids, approval: { batches: [2], timeoutMs: 300 }, ...fast });
    const { instanceId } = (await r.json()) as { instanceId: string };
    const final = await until(instanceId, (b) => b.runtimeStatus === 'Completed');
    expect((final as unknown as { output: RolloutResult }).output).toMatchObject({ outcome: 'RolledBack', haltReason: 'approval-timeout', rolledBack: [ids[0]] });
    for (const id of ids) expect(driver.current(id)?.id).toBe('v1');
  });

  it.each<[string, () => Promise<Response>, number, string]>([
    ['a non-JSON content type', () => post('rollouts', '{}', { 'content-type': 'text/plain', 'x-functions-key': keys.functionKey }), 415, 'HTTP_CONTENT_TYPE_UNSUPPORTED'],
    ['malformed JSON', () => post('rollouts', '{"revision":'), 400, 'HTTP_BODY_MALFORMED'],
    ['duplicate sandbox ids', () => post('rollouts', { revision: { id: 'v2', spec: {} }, sandboxIds: ['a', 'a'] }), 400, 'ROLLOUT_PLAN_INVALID'],
    ['an unknown rollout', () => get('rollouts/no-such-rollout'), 404, 'ORCHESTRATION_NOT_FOUND'],
    ['a malformed instance id', () => get('rollouts/bad%20id'), 400, 'INPUT_INVALID'],
    ['aborting an unknown rollout', () => post('rollouts/no-such-rollout/abort', ''), 404, 'ORCHESTRATION_NOT_FOUND'],
    ['approving an unknown rollout', () => post('rollouts/no-such-rollout/approve', { batch: 1 }), 404, 'ORCHESTRATION_NOT_FOUND'],
    ['an approval that is not JSON', () => post('rollouts/no-such-rollout/approve', '1', { 'content-type': 'text/plain', 'x-functions-key': keys.functionKey }), 415, 'HTTP_CONTENT_TYPE_UNSUPPORTED'],
  ])('refuses %s', async (_label, call, status, code) => {
    const r = await call();
    expect(r.status).toBe(status);
    expect(((await r.json()) as { code: string }).code).toBe(code);
  });

  it('refuses oversized bodies, declared or streamed, with 413', async () => {
    // Called in process: the local host's drain of an unread streamed body is not what is under test here.
    const handler = routes[0]!.handler;
    const big = JSON.stringify({ pad: 'x'.repeat(MAX_ROLLOUT_REQUEST_BYTES) });
    const declared = new HttpRequest({
      method: 'POST', url: 'http://local/api/rollouts',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) }, body: { string: big },
    });
    const streamed = new HttpRequest({ method: 'POST', url: 'http://local/api/rollouts', headers: { 'content-type': 'application/json' }, body: { string: big } });
    for (const req of [declared, streamed]) {
      const res = await handler(req, new InvocationContext());
      expect(res.status).toBe(413);
      expect((res as { jsonBody: { code: string } }).jsonBody.code).toBe('HTTP_BODY_TOO_LARGE');
    }
  });

  it('names failing fields but never echoes the values sent', async () => {
    const canary = 'canary-value-5f2e91';
    const r = await post('rollouts', { revision: { id: 'v2', spec: {} }, sandboxIds: [canary.toUpperCase()], extra: canary });
    expect(r.status).toBe(400);
    const text = await r.text();
    expect(text).toContain('sandboxIds.0');
    expect(text).toContain('INPUT_INVALID');
    expect(text.toLowerCase()).not.toContain(canary);
  });

  it('does not expose other orchestrations through the rollout routes', async () => {
    const other = await runner.startNew('notARollout', { instanceId: 'not-a-rollout-1' });
    const r = await get(`rollouts/${other}`);
    expect(r.status).toBe(404);
    const a = await post(`rollouts/${other}/abort`, '');
    expect(a.status).toBe(404);
    await runner.terminate(other, 'cleanup');
  });
});
