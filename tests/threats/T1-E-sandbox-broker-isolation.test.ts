// Defends: T1-E (a compromised router reads another sandbox's events). Each sandbox's events go to its own queue
// sbx-<id>, and only that sandbox's identity holds a receive role there; the local broker verifies every CBS token
// (signature, issuer, audience, expiry) and authorizes every attach against the token's principal, as Service Bus
// does with Azure RBAC. Sandbox A's router, with A's real credential, asks for B's events in every way the SDK offers
// and the broker refuses (amqp:unauthorized-access); with the per-sandbox queue switched off (the edge writes to the
// shared queue every router could read) or with a namespace-wide receive role, the same calls return B's event.
import type { ServiceBusClient } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAzureCredential } from '../../adapters/identity/create-azure-credential';
import { createBusEdgeQueue, DEFAULT_EDGE_QUEUE, type EdgeDeliveryMessage } from '../../adapters/edge/bus-edge-queue';
import type { EdgeDelivery } from '../../core/ports/edge-queue.port';
import { sandboxEventsEntity } from '../../core/sandbox/sandbox-events-entity';
import { NAMESPACE_SCOPE } from '../../infra/local/servicebus/broker-authorization';
import { checkBicepSources } from '../bicep/bicep-policy';
import { mutateSources, policyContext, readBicepSources } from '../bicep/bicep-sources';
import { startAuthorizedBroker, type AuthorizedBroker, type TestIdentity } from '../support/authorized-broker';

const A = 'sandbox-a';
const B = 'sandbox-b';

function delivery(sandboxId: string, n: number): EdgeDelivery {
  return {
    tenantId: 'tenant-1', sandboxId, agentId: `agent-${sandboxId}`, hookId: 'hk-1', channel: 'github', eventType: 'push',
    deliveryId: `d-${sandboxId}-${n}`, receiptId: `r-${n}`, dedupKey: `${sandboxId}-${n}`.padEnd(64, '0'),
    receivedAtMs: 1_760_000_000_000, payload: { secret: `event for ${sandboxId} #${n}` },
  };
}

/** The SDK error code a call rejects with ('resolved' when it does not). */
async function refusal(p: Promise<unknown>): Promise<{ code: unknown; message: string }> {
  try {
    await p;
    return { code: 'resolved', message: '' };
  } catch (e) {
    return { code: (e as { code?: unknown }).code, message: String((e as Error).message) };
  }
}

// The SDK parses a JSON body itself (the edge sends application/json).
const bodyOf = (m: { body: unknown }): EdgeDeliveryMessage => m.body as EdgeDeliveryMessage;

let stack: AuthorizedBroker;
let a: TestIdentity & { entity: string; clientId: string; federatedTokenFile: string };
let b: TestIdentity & { entity: string; clientId: string };
let clientA: ServiceBusClient;
beforeAll(async () => {
  // The pre-T1-E layout exists too (the shared session queue), so the "mitigation off" runs use the real broker path.
  stack = await startAuthorizedBroker({ queues: [{ name: DEFAULT_EDGE_QUEUE, requiresSession: true }], strictQueues: true });
  a = await stack.sandbox(A);
  b = await stack.sandbox(B);
  clientA = stack.client(a);
}, 30_000);
afterAll(async () => {
  await stack?.stop();
});

describe('T1-E: one sandbox, one broker identity', () => {
  it('mitigation on: A asks for B\'s events (receive, accept session, peek, DLQ, send) and the broker refuses each', async () => {
    const edge = createBusEdgeQueue(stack.bus(stack.app));
    await edge.enqueue(delivery(B, 1));
    await edge.enqueue(delivery(A, 1));
    expect(b.entity).toBe(sandboxEventsEntity(B));

    const attempts = {
      acceptSession: refusal(clientA.acceptSession(b.entity, B, { receiveMode: 'peekLock' })),
      acceptNextSession: refusal(clientA.acceptNextSession(b.entity, { maxAutoLockRenewalDurationInMs: 0 })),
      receive: refusal(clientA.createReceiver(b.entity).receiveMessages(1, { maxWaitTimeInMs: 500 })),
      peek: refusal(clientA.createReceiver(b.entity).peekMessages(5)),
      deadLetter: refusal(clientA.createReceiver(b.entity, { subQueueType: 'deadLetter' }).receiveMessages(1, { maxWaitTimeInMs: 500 })),
      // Forging events into B's queue is refused too: A holds no Send role anywhere.
      send: refusal(clientA.createSender(b.entity).sendMessages({ body: 'forged', sessionId: B })),
    };
    for (const [name, p] of Object.entries(attempts)) {
      const r = await p;
      expect({ name, code: r.code }).toEqual({ name, code: 'UnauthorizedAccess' });
    }
    expect((await attempts.receive).message).toContain(`holds no role on '${b.entity}'`);
    // Past $cbs, each attach needs its own right: A's receive-only role on its own queue does not let it send there.
    const forgeOwn = await refusal(clientA.createSender(a.entity).sendMessages({ body: 'forged', sessionId: A }));
    expect(forgeOwn.code).toBe('UnauthorizedAccess');
    expect(forgeOwn.message).toContain("'Send' claim(s) are required");

    // A reads its own events through the same client...
    const own = await clientA.acceptSession(a.entity, A, { maxAutoLockRenewalDurationInMs: 0 });
    const [mine] = await own.receiveMessages(1, { maxWaitTimeInMs: 3000 });
    expect(bodyOf(mine!).payload).toEqual({ secret: `event for ${A} #1` });
    await own.completeMessage(mine!);
    await own.close();
    // ...and B's event is untouched, waiting for B.
    const bSession = await stack.client(b).acceptSession(b.entity, B, { maxAutoLockRenewalDurationInMs: 0 });
    const [theirs] = await bSession.receiveMessages(1, { maxWaitTimeInMs: 3000 });
    expect(bodyOf(theirs!).deliveryId).toBe(`d-${B}-1`);
    expect(theirs!.deliveryCount).toBe(0);
    await bSession.completeMessage(theirs!);
    await bSession.close();
  });

  it('mitigation on: A\'s service-account token cannot be exchanged for B\'s identity, and a forged token is refused on $cbs', async () => {
    // B's client id with A's projected token: the federated credential of B names only B's service account.
    const stolen = createAzureCredential({
      AZURE_TENANT_ID: stack.identity.tenantId, AZURE_CLIENT_ID: b.clientId, AZURE_FEDERATED_TOKEN_FILE: a.federatedTokenFile,
      AZURE_AUTHORITY_HOST: stack.identity.authorityHost,
    }, { caCertPem: stack.identity.caCertPem, maxRetries: 0 }).credential;
    await expect(stolen.getToken('https://servicebus.azure.net//.default')).rejects.toThrow(/AADSTS700213/);

    // A token the stand-in never signed, claiming B's principal: the CBS put-token is refused before any attach.
    const claims = Buffer.from(JSON.stringify({ aud: 'https://servicebus.azure.net', oid: b.principalId, exp: 4_000_000_000 })).toString('base64url');
    const forged: TestIdentity = {
      principalId: b.principalId,
      credential: { getToken: async () => ({ token: `eyJhbGciOiJSUzI1NiJ9.${claims}.c2ln`, expiresOnTimestamp: Date.now() + 3_600_000 }) },
    };
    const r = await refusal(stack.client(forged).acceptSession(b.entity, B));
    expect(r.code).toBe('UnauthorizedAccess');
  });

  it('mitigation off (edge writes to the shared queue every router may read): A accepts B\'s session and reads B\'s event', async () => {
    // The layout before T1-E: one queue, sessions per sandbox, every router identity a Data Receiver on it.
    stack.grant(stack.app.principalId, DEFAULT_EDGE_QUEUE, 'Azure Service Bus Data Sender');
    stack.grant(a.principalId, DEFAULT_EDGE_QUEUE, 'Azure Service Bus Data Receiver');
    stack.grant(b.principalId, DEFAULT_EDGE_QUEUE, 'Azure Service Bus Data Receiver');
    const edge = createBusEdgeQueue(stack.bus(stack.app), { _disable: ['sandbox-entity'] });
    await edge.enqueue(delivery(B, 2));
    const stolen = await clientA.acceptSession(DEFAULT_EDGE_QUEUE, B, { maxAutoLockRenewalDurationInMs: 0 });
    const [m] = await stolen.receiveMessages(1, { maxWaitTimeInMs: 3000 });
    expect(bodyOf(m!).payload).toEqual({ secret: `event for ${B} #2` });
    await stolen.completeMessage(m!);
    await stolen.close();
  });

  it('mitigation off (a namespace-wide receive role, as a router identity with Data Receiver on the namespace): A reads B\'s queue', async () => {
    const edge = createBusEdgeQueue(stack.bus(stack.app));
    await edge.enqueue(delivery(B, 3));
    stack.grant(a.principalId, NAMESPACE_SCOPE, 'Azure Service Bus Data Receiver');
    const stolen = await clientA.acceptSession(b.entity, B, { maxAutoLockRenewalDurationInMs: 0 });
    const [m] = await stolen.receiveMessages(1, { maxWaitTimeInMs: 3000 });
    expect(bodyOf(m!).payload).toEqual({ secret: `event for ${B} #3` });
    await stolen.completeMessage(m!);
    await stolen.close();
  });

  it('Azure: each sandbox identity holds Data Receiver on its own queue only; widened to the namespace, the policy refuses it', () => {
    const rules = ['SANDBOX_IDENTITY', 'SERVICEBUS_NO_NAMESPACE_RECEIVE', 'SERVICEBUS_RBAC'];
    const violations = (sources: ReadonlyMap<string, string>) =>
      checkBicepSources(sources, policyContext()).filter((x) => rules.includes(x.rule)).map((x) => x.rule);
    const sources = readBicepSources();
    expect(violations(sources)).toEqual([]);
    // Mitigation off: the role assignment of bicep/modules/sandbox-identity.bicep scoped to the whole namespace.
    const widened = mutateSources(sources, [{
      file: 'modules/sandbox-identity.bicep',
      from: "  scope: eventsQueue\n  properties: {\n    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiver)",
      to: "  scope: namespace\n  properties: {\n    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiver)",
    }]);
    expect(violations(widened)).toEqual(expect.arrayContaining(['SANDBOX_IDENTITY', 'SERVICEBUS_NO_NAMESPACE_RECEIVE']));
  });
});
