// Azure-mode OrchestrationClient: the real durable-functions DurableClient (df.getClient) talks HTTP to a stand-in for
// the Durable extension's management API; the adapter's job is the binding lookup, the status mapping and turning
// the client's plain Errors into stable codes.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { createDurableFunctionsClient } from '../../../adapters/durable/durable-functions-client';

interface Instance {
  name: string;
  runtimeStatus: string;
  input: unknown;
  output: unknown;
  customStatus: unknown;
}

const instances = new Map<string, Instance>();
const calls: string[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      calls.push(`${req.method} ${url.pathname}${url.search}`);
      const send = (status: number, data?: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(data === undefined ? '' : JSON.stringify(data));
      };
      let m = /^\/durabletask\/orchestrators\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
      if (req.method === 'POST' && m) {
        const id = m[2] ?? 'generated-1';
        if (instances.get(id)?.runtimeStatus === 'Running') return send(409, { message: 'exists' });
        instances.set(id, { name: m[1]!, runtimeStatus: 'Running', input: body ? JSON.parse(body) : null, output: null, customStatus: { step: 1 } });
        return send(202, { id });
      }
      m = /^\/durabletask\/instances\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && m) {
        const i = instances.get(m[1]!);
        if (!i) return send(404);
        const history = url.searchParams.get('showHistory') === 'true'
          ? [{ EventType: 'ExecutionStarted', Timestamp: '2026-01-01T00:00:00Z' }, { EventType: 'TaskCompleted', FunctionName: 'applySandboxRevision', Result: { ok: true }, Timestamp: '2026-01-01T00:00:01Z' }]
          : undefined;
        return send(200, { ...i, instanceId: m[1], createdTime: '2026-01-01T00:00:00Z', lastUpdatedTime: '2026-01-01T00:00:02Z', history });
      }
      m = /^\/durabletask\/instances\/([^/]+)\/(raiseEvent\/[^/]+|terminate)$/.exec(url.pathname);
      if (req.method === 'POST' && m) {
        const i = instances.get(m[1]!);
        if (!i) return send(404);
        if (m[2] === 'terminate') i.runtimeStatus = 'Terminated';
        return send(202);
      }
      send(500, { message: 'unexpected' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/durabletask/`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** An InvocationContext as the host builds it for a route with the durable client binding. */
function contextWithBinding(): InvocationContext {
  const binding = df.input.durableClient();
  const ctx = new InvocationContext({ logHandler: () => undefined, options: { extraInputs: [binding] } });
  ctx.extraInputs.set(binding, {
    taskHubName: 'KarsRollouts',
    creationUrls: {},
    managementUrls: {},
    baseUrl: base,
    requiredQueryStringParameters: '',
    rpcBaseUrl: base,
  });
  return ctx;
}

describe('createDurableFunctionsClient', () => {
  it('refuses a context without the durable client binding with CONFIG_INVALID', () => {
    expect(() => createDurableFunctionsClient(new InvocationContext({ logHandler: () => undefined }))).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('starts, reads (with history), raises events on and terminates instances through the extension API', async () => {
    const client = createDurableFunctionsClient(contextWithBinding());
    const id = await client.startNew('sandboxRollout', { instanceId: 'az-1', input: { revision: 'v2' } });
    expect(id).toBe('az-1');
    expect(instances.get('az-1')!.input).toEqual({ revision: 'v2' });

    const s = await client.getStatus('az-1', { showHistory: true });
    expect(s).toMatchObject({
      instanceId: 'az-1', name: 'sandboxRollout', runtimeStatus: 'Running', input: { revision: 'v2' }, customStatus: { step: 1 },
      createdTime: '2026-01-01T00:00:00.000Z', lastUpdatedTime: '2026-01-01T00:00:02.000Z',
    });
    expect(s.history).toEqual([
      { eventType: 'ExecutionStarted', timestamp: '2026-01-01T00:00:00Z' },
      { eventType: 'TaskCompleted', timestamp: '2026-01-01T00:00:01Z', name: 'applySandboxRevision', result: { ok: true } },
    ]);

    await client.raiseEvent('az-1', 'RolloutAbort', { by: 'test' });
    expect(calls).toContain('POST /durabletask/instances/az-1/raiseEvent/RolloutAbort');
    await client.terminate('az-1', 'stop');
    expect(instances.get('az-1')!.runtimeStatus).toBe('Terminated');
  });

  it('maps extension answers to stable codes', async () => {
    const client = createDurableFunctionsClient(contextWithBinding());
    await expect(client.getStatus('missing')).rejects.toMatchObject({ code: 'ORCHESTRATION_NOT_FOUND' });
    await expect(client.raiseEvent('missing', 'x')).rejects.toMatchObject({ code: 'ORCHESTRATION_NOT_FOUND' });
    await client.startNew('sandboxRollout', { instanceId: 'az-2' });
    await expect(client.startNew('sandboxRollout', { instanceId: 'az-2' })).rejects.toMatchObject({ code: 'ORCHESTRATION_INSTANCE_EXISTS' });
    await client.terminate('az-2', 'x');
    await expect(client.raiseEvent('az-2', 'x')).rejects.toMatchObject({ code: 'ORCHESTRATION_NOT_RUNNING' });
    await expect(client.terminate('az-2', 'again')).rejects.toMatchObject({ code: 'ORCHESTRATION_NOT_RUNNING' });
  });

  it('reports an unreachable extension as DEPENDENCY_UNAVAILABLE', async () => {
    const binding = df.input.durableClient();
    const ctx = new InvocationContext({ logHandler: () => undefined, options: { extraInputs: [binding] } });
    ctx.extraInputs.set(binding, { taskHubName: 'h', creationUrls: {}, managementUrls: {}, baseUrl: 'http://127.0.0.1:1/', rpcBaseUrl: 'http://127.0.0.1:1/durabletask/' });
    await expect(createDurableFunctionsClient(ctx).getStatus('x')).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
  });
});
