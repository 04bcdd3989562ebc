// Inbound events end to end with real parts: a signed webhook through the real edge route (local Functions host,
// Cosmos, the local AMQP broker via @azure/service-bus) reaches the agent's long poll on its sandbox's router, which
// holds the sandbox's session through its own @azure/service-bus client. The event leaves the broker only on the
// agent's ack; unacked it comes again with a rising delivery count and is dead-lettered by the broker past the queue's
// maxDeliveryCount; a router SIGKILLed before the ack loses nothing (the restarted router delivers the same event).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { sandboxEventsEntity } from '../../../core/sandbox/sandbox-events-entity';
import { routerSubjectOf } from '../../../core/sandbox/router-subject';
import { busJson, type Bus } from '../../../core/ports/bus.port';
import { systemClock } from '../../../core/ports/clock.port';
import { startIdentityServer, type IdentityServer } from '../../../infra/local/identity/identity-server';
import { startRouterEvents, type RouterEvents } from '../../../sandbox-node/router/router-events';
import { SECRETS, signStandard } from '../../core/edge/edge-fixture';
import { standardFixture } from '../../core/webhook/fixtures';
import { postHook, startEdgeStack, type EdgeStack } from '../../functions/hooks/edge-stack';
import { captureEvents } from '../../support/log-sink';
import { startStandalone, transpileEntry } from '../identity/run-standalone';
import { startRouterStack, type RouterStack } from './router-stack';

const MAX_DELIVERY = 3;
const LOCK_MS = 2000;

let stack: EdgeStack;
let identity: IdentityServer;
let routerBus: Bus;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  stack = await startEdgeStack({ brokerQueue: { maxDeliveryCount: MAX_DELIVERY, lockDurationMs: LOCK_MS } });
  identity = await startIdentityServer();
  // The in-process routers share the harness's identity (it owns the namespace); the router process below runs as its
  // sandbox's own identity, with a receive role on its own queue only (T1-E).
  routerBus = stack.broker.bus(stack.broker.app, { sessionWaitMs: 1000, maxRetries: 1 });
}, 60_000);
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await routerBus?.close();
  await identity?.stop();
  await stack?.close();
});

interface AgentEventJson {
  id: string;
  deliveryCount: number;
  ackByMs: number;
  event: { sandboxId: string; deliveryId: string; receiptId: string; hookId: string; eventType: string; payload: unknown };
}

async function poll(url: string, waitS: number): Promise<{ status: number; events: AgentEventJson[]; code?: string }> {
  const r = await fetch(`${url}/v1/events?wait=${waitS}`, { signal: AbortSignal.timeout((waitS + 10) * 1000) });
  const body = (await r.json()) as { events?: AgentEventJson[]; code?: string };
  return { status: r.status, events: body.events ?? [], ...(body.code ? { code: body.code } : {}) };
}

/** Polls until an event comes (a poll may end empty while the broker is still taking the message in). */
async function nextEvent(url: string, timeoutMs = 15_000): Promise<AgentEventJson> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await poll(url, 5);
    expect(r.status).toBe(200);
    if (r.events.length > 0) {
      expect(r.events).toHaveLength(1);
      return r.events[0]!;
    }
  }
  throw new Error('no event reached the agent');
}

async function settle(url: string, id: string, verb: 'ack' | 'nack'): Promise<{ status: number; code?: string }> {
  const r = await fetch(`${url}/v1/events/${id}/${verb}`, { method: 'POST' });
  const text = await r.text();
  return { status: r.status, ...(text ? { code: (JSON.parse(text) as { code: string }).code } : {}) };
}

async function createHook(sandboxId: string): Promise<string> {
  const r = await fetch(`${stack.url}/api/manage/hooks`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-functions-key': stack.masterKey },
    body: JSON.stringify({ tenantId: 'tenant-ev', sandboxId, channel: 'standard', allowedEventTypes: ['contact.created'], secret: SECRETS.standard }),
  });
  expect(r.status).toBe(201);
  return ((await r.json()) as { registration: { hookId: string } }).registration.hookId;
}

/** A signed webhook through the real edge route; resolves with the receipt id once the broker holds the delivery. */
async function sendWebhook(hookId: string, deliveryId: string): Promise<string> {
  const body = JSON.stringify(standardFixture);
  const r = await postHook(stack, 'standard', hookId, body, signStandard(SECRETS.standard, deliveryId, Math.floor(Date.now() / 1000), body));
  expect(r.status).toBe(202);
  return ((await r.json()) as { receiptId: string }).receiptId;
}

/** A sandbox router in this process with the events relay over its own client. */
async function startRouter(sandboxId: string, ackWindowMs: number): Promise<{ router: RouterStack; events: RouterEvents; logs: ReturnType<typeof captureEvents> }> {
  const logs = captureEvents('router-events');
  const events = startRouterEvents(
    { sandboxId, entity: sandboxEventsEntity(sandboxId), sessionId: sandboxId, ackWindowMs, maxInFlight: 4, tickMs: 100 },
    { bus: routerBus, clock: systemClock, logger: logs.logger },
  );
  const router = await startRouterStack({ identity, upstreamUrl: 'http://127.0.0.1:9', sandboxId, events: events.relay });
  cleanups.push(() => router.stop(), () => events.close());
  return { router, events, logs };
}

async function deadLettered(sandboxId: string, deliveryId: string): Promise<{ reason: string | undefined; deliveryCount: number } | undefined> {
  const dlq = await routerBus.openReceiver(sandboxEventsEntity(sandboxId), { deadLetter: true });
  try {
    for (const m of await dlq.receive(50, { maxWaitMs: 1500 })) {
      const body = busJson(m) as { deliveryId?: string };
      await dlq.complete(m);
      if (body.deliveryId === deliveryId) return { reason: m.deadLetterReason, deliveryCount: m.deliveryCount };
    }
    return undefined;
  } finally {
    await dlq.close();
  }
}

describe('inbound events through the router (edge → Service Bus → router → agent)', () => {
  it('a webhook accepted by the edge reaches the waiting long poll; the ack completes it on the broker', async () => {
    const { router, events, logs } = await startRouter('sb-events-1', 30_000);
    const hookId = await createHook('sb-events-1');
    const waiting = poll(router.url, 10);
    await new Promise((r) => setTimeout(r, 300));
    const receiptId = await sendWebhook(hookId, 'evt-1');
    const got = await waiting;
    expect(got.status).toBe(200);
    expect(got.events).toHaveLength(1);
    const e = got.events[0]!;
    expect(e).toMatchObject({ deliveryCount: 0, event: { sandboxId: 'sb-events-1', deliveryId: 'evt-1', receiptId, hookId, eventType: 'contact.created', payload: standardFixture } });
    expect(await settle(router.url, e.id, 'ack')).toEqual({ status: 204 });
    expect(await settle(router.url, e.id, 'ack')).toEqual({ status: 404, code: 'ROUTER_EVENT_LEASE_UNKNOWN' });
    expect((await poll(router.url, 1)).events).toEqual([]);
    // Off the broker for good: with the router's session released, nothing is left in it.
    await events.close();
    expect(await stack.drain('sb-events-1', 500)).toEqual([]);
    // The router logged ids, never the payload.
    expect(logs.events.map((l) => l.event)).toEqual(expect.arrayContaining(['router.events_session_accepted', 'router.event_leased', 'router.event_acked']));
    const payloadText = JSON.stringify(standardFixture).slice(1, 40);
    expect(JSON.stringify([logs.events, router.logs])).not.toContain(payloadText);
  }, 60_000);

  it('holds the lock past the broker lock duration while the agent works (renewed), then the ack still completes', async () => {
    const { router } = await startRouter('sb-events-3', 15_000);
    const hookId = await createHook('sb-events-3');
    await sendWebhook(hookId, 'evt-3');
    const e = await nextEvent(router.url);
    await new Promise((r) => setTimeout(r, LOCK_MS * 2 + 500));
    expect(await settle(router.url, e.id, 'ack')).toEqual({ status: 204 });
    expect((await poll(router.url, 1)).events).toEqual([]);
  }, 60_000);

  it('unacked it comes again with a rising delivery count, and the broker dead-letters it after maxDeliveryCount', async () => {
    const { router } = await startRouter('sb-events-2', 1000);
    const hookId = await createHook('sb-events-2');
    await sendWebhook(hookId, 'evt-2');
    const first = await nextEvent(router.url);
    expect(first).toMatchObject({ deliveryCount: 0, event: { deliveryId: 'evt-2' } });
    // No ack within the window: given back, delivered again.
    const second = await nextEvent(router.url);
    expect(second).toMatchObject({ deliveryCount: 1, event: { deliveryId: 'evt-2' } });
    expect(second.id).not.toBe(first.id);
    expect(await settle(router.url, first.id, 'ack')).toEqual({ status: 404, code: 'ROUTER_EVENT_LEASE_UNKNOWN' }); // too late
    expect(await settle(router.url, second.id, 'nack')).toEqual({ status: 204 });
    const third = await nextEvent(router.url);
    expect(third).toMatchObject({ deliveryCount: 2, event: { deliveryId: 'evt-2' } });
    // The third delivery expires too: that was the last one the queue allows.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await poll(router.url, 2)).events).toEqual([]);
    expect(await deadLettered('sb-events-2', 'evt-2')).toEqual({ reason: 'MaxDeliveryCountExceeded', deliveryCount: MAX_DELIVERY });
  }, 60_000);

  it('hands out only its own sandbox’s events: another session stays with the broker, a misaddressed body is dead-lettered', async () => {
    const { router } = await startRouter('sb-events-4a', 30_000);
    const hookB = await createHook('sb-events-4b');
    await sendWebhook(hookB, 'evt-4b');
    // In the router's own session, but naming another sandbox.
    await routerBus.send(sandboxEventsEntity('sb-events-4a'), {
      sessionId: 'sb-events-4a', messageId: 'evt-4-misaddressed',
      body: { v: 1, tenantId: 't', sandboxId: 'sb-events-4b', agentId: 'a', hookId: 'h', channel: 'standard', eventType: 'x', deliveryId: 'evt-4-mis', receiptId: 'r', receivedAtMs: 1, payload: {} },
    });
    expect((await poll(router.url, 2)).events).toEqual([]);
    expect(await deadLettered('sb-events-4a', 'evt-4-mis')).toEqual({ reason: 'EventForOtherSandbox', deliveryCount: 1 });
    const b = await startRouter('sb-events-4b', 30_000);
    const e = await nextEvent(b.router.url);
    expect(e.event).toMatchObject({ sandboxId: 'sb-events-4b', deliveryId: 'evt-4b' });
    expect(await settle(b.router.url, e.id, 'ack')).toEqual({ status: 204 });
  }, 60_000);
});

describe('inbound events over the WebSocket form', () => {
  it('pushes the event as the broker delivers it; the ack frame completes it', async () => {
    const { router } = await startRouter('sb-events-6', 30_000);
    const hookId = await createHook('sb-events-6');
    const ws = new WebSocket(`${router.url.replace('http', 'ws')}/v1/events/ws`);
    const frames: Array<Record<string, unknown>> = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Record<string, unknown>));
    await new Promise((r) => ws.once('open', r));
    const frame = async (): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + 15_000;
      while (frames.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const f = frames.shift();
      if (!f) throw new Error('no frame');
      return f;
    };
    const receiptId = await sendWebhook(hookId, 'evt-6');
    const e = await frame();
    expect(e).toMatchObject({ type: 'event', deliveryCount: 0, event: { sandboxId: 'sb-events-6', deliveryId: 'evt-6', receiptId } });
    ws.send(JSON.stringify({ type: 'ack', id: e.id }));
    expect(await frame()).toEqual({ type: 'acked', id: e.id });
    const closed = new Promise((r) => ws.once('close', r));
    ws.close();
    await closed;
    expect((await poll(router.url, 1)).events).toEqual([]);
  }, 60_000);
});

describe('a router process killed before the ack', () => {
  let main: string;
  let outDir: string;
  const procs: ChildProcess[] = [];
  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'kars-router-main-'));
    main = await transpileEntry('sandbox-node/router/main.ts', outDir);
  }, 60_000);
  afterAll(() => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    rmSync(outDir, { recursive: true, force: true });
  });

  const startRouterProcess = async (sandboxId: string): Promise<{ child: ChildProcess; url: string }> => {
    // The sandbox's own workload identity (federated with its router service account), Data Receiver on its queue.
    const { identity: idp } = stack.broker;
    const own = await idp.registerWorkloadIdentity(`kars-sbx-${sandboxId}`, routerSubjectOf(sandboxId));
    stack.broker.grant(own.principalId, sandboxEventsEntity(sandboxId), 'Azure Service Bus Data Receiver');
    const p = await startStandalone(main, {
      PATH: process.env.PATH, NODE_PATH: join(process.cwd(), 'node_modules'),
      KARS_SANDBOX_ID: sandboxId, KARS_ROUTER_LISTEN: '127.0.0.1:0',
      KARS_ROUTER_MODEL_ENDPOINT: 'https://example-resource.openai.azure.com', KARS_ROUTER_DEPLOYMENTS: 'gpt-4o-mini',
      KARS_SERVICEBUS_NAMESPACE: stack.broker.broker.namespace, KARS_SERVICEBUS_EMULATOR: 'true', KARS_ROUTER_EVENTS_ACK_WINDOW_MS: '30000',
      AZURE_TENANT_ID: idp.tenantId, AZURE_CLIENT_ID: own.clientId, AZURE_FEDERATED_TOKEN_FILE: own.federatedTokenFile,
      AZURE_AUTHORITY_HOST: idp.authorityHost, NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS,
    }, /listening on (\d+)/);
    procs.push(p.child);
    return { child: p.child, url: `http://127.0.0.1:${p.port}` };
  };

  it('loses nothing: the restarted router delivers the same event again, and its ack completes it', async () => {
    const hookId = await createHook('sb-events-5');
    const receiptId = await sendWebhook(hookId, 'evt-5');
    const first = await startRouterProcess('sb-events-5');
    const before = await nextEvent(first.url);
    expect(before).toMatchObject({ deliveryCount: 0, event: { deliveryId: 'evt-5', receiptId } });
    const exited = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGKILL');
    await exited;
    const second = await startRouterProcess('sb-events-5');
    const after = await nextEvent(second.url);
    expect(after).toMatchObject({ deliveryCount: 1, event: { deliveryId: 'evt-5', receiptId } });
    expect(await settle(second.url, after.id, 'ack')).toEqual({ status: 204 });
    expect((await poll(second.url, 1)).events).toEqual([]);
    // SIGTERM: the router drains, gives back nothing (all acked) and exits 0.
    const done = new Promise<number | null>((r) => second.child.once('exit', (code) => r(code)));
    second.child.kill('SIGTERM');
    expect(await done).toBe(0);
  }, 90_000);
});
