// Interop: the unmodified AGT 4.0.0 RegistryClient against the registry routes served by the local host (real
// @azure/cosmos SDK on the local Cosmos server, router tokens minted by the local identity stand-in's cluster OIDC
// issuer and checked against its JWKS over TLS, the relay's notification through the local Service Bus broker).
// The client's fetchImpl adds the router token, as the router bridge does for its agent; the client's own
// Ed25519-Timestamp signer is the SDK's `ed25519AuthSigner`.
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCosmosClient } from '../../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers, type CosmosContainerSpec } from '../../adapters/cosmos/cosmos-containers';
import { CosmosDocumentStore } from '../../adapters/cosmos/cosmos-document-store';
import { captureLogs } from '../support/log-sink';
import { DEFAULT_MESH_QUEUE } from '../../adapters/mesh/bus-mesh-notifier';
import { ReceiptAppender } from '../../core/audit/append-receipt';
import { createChainReceiptSink } from '../../core/audit/chain-receipt-sink';
import { DocumentReceiptStore } from '../../core/audit/document-receipt-store';
import { busJson, type Bus } from '../../core/ports/bus.port';
import { systemClock } from '../../core/ports/clock.port';
import { redact } from '../../core/secrets/redacted';
import { buildMeshRouteDeps, createMeshAuthenticator } from '../../functions/mesh/build-mesh-deps';
import { createMeshRoutes, ROUTER_TOKEN_HEADER } from '../../functions/mesh/mesh-routes';
import { loadMeshSettings } from '../../functions/mesh/mesh-settings';
import { startCosmosServer, type LocalCosmosServer } from '../../infra/local/cosmos/start-cosmos-server';
import { startLocalHost, type LocalHost } from '../../infra/local/host/local-host';
import { startIdentityServer, type IdentityServer } from '../../infra/local/identity/identity-server';
import { startAuthorizedBroker, type AuthorizedBroker } from '../support/authorized-broker';
import { agt, newAgent, type AgtRegistryClient, type TestAgent } from '../mesh/agt-sdk';
import { messageFrame } from '../mesh/mesh-fixture';

let cosmos: LocalCosmosServer;
let broker: AuthorizedBroker;
let identity: IdentityServer;
let bus: Bus;
let host: LocalHost;

/** fetch over node:https trusting the stand-in's dev CA (the Functions host gets it through NODE_EXTRA_CA_CERTS). */
const caFetch = (ca: string): typeof fetch => (async (url: string | URL) => new Promise<Response>((resolve, reject) => {
  request(url, { ca }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500 })));
  }).on('error', reject).end();
})) as typeof fetch;

beforeAll(async () => {
  [cosmos, broker, identity] = await Promise.all([
    startCosmosServer(),
    startAuthorizedBroker({ queues: [{ name: DEFAULT_MESH_QUEUE, requiresSession: true }], strictQueues: true, appOwnsNamespace: true }),
    startIdentityServer(),
  ]);
  const client = createCosmosClient({ endpoint: cosmos.endpoint, key: redact(cosmos.key) });
  const documents = async (spec: CosmosContainerSpec) => new CosmosDocumentStore((await ensureCosmosContainers(client, 'kars', [spec])).get(spec.id)!);
  bus = broker.bus(broker.app, { sessionWaitMs: 1000, maxRetries: 1 });
  const logger = captureLogs({ component: 'mesh-interop' }).logger;
  const settings = loadMeshSettings({ KARS_MESH_OIDC_ISSUER: identity.serviceAccountIssuer, KARS_MESH_OIDC_JWKS_URL: `${identity.serviceAccountIssuer}/openid/v1/jwks` });
  const deps = await buildMeshRouteDeps({
    documents, bus, logger, maxInstances: 1,
    receipts: createChainReceiptSink(new ReceiptAppender(new DocumentReceiptStore(await documents({ id: 'receipts' })), { clock: systemClock })),
    limits: await documents({ id: 'limits', defaultTtlSec: -1 }),
  }, settings);
  const authenticator = createMeshAuthenticator(settings, caFetch(identity.caCertPem));
  host = await startLocalHost({ routes: createMeshRoutes({ ...deps, authenticator }), keys: { functionKey: 'fk', masterKey: 'mk' }, logger, port: 0 });
}, 120_000);

afterAll(async () => {
  await host?.close();
  await bus?.close();
  await Promise.all([cosmos?.stop(), broker?.stop(), identity?.stop()]);
});

/** What the router bridge does: the agent's request, plus the router's own service-account token. */
function clientFor(agent: TestAgent, sandbox: string): AgtRegistryClient {
  const token = identity.mintServiceAccountToken({ subject: `system:serviceaccount:${sandbox}:kars-router`, audience: 'kars-mesh' });
  const fetchImpl = ((url: string, init: RequestInit) =>
    fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), [ROUTER_TOKEN_HEADER]: token } })) as typeof fetch;
  return new agt.RegistryClient({ baseUrl: `${host.url}/api/mesh`, fetchImpl, authSigner: agt.ed25519AuthSigner(agent.did, agent.edPrivate), maxRetries: 0 });
}

describe('AGT RegistryClient 4.0.0 against the local host', () => {
  it('registers, publishes prekeys, fetches a bundle that X3DH accepts, discovers, and deletes', async () => {
    const alice = newAgent('alice-interop');
    const bob = newAgent('bob-interop');
    const aliceClient = clientFor(alice, 'sb-alice');
    const bobClient = clientFor(bob, 'sb-bob');
    for (const [agent, c] of [[alice, aliceClient], [bob, bobClient]] as const) {
      await c.register(agent.did, agent.keys.identityKey.publicKey, [agent.did.slice(9), 'interop'], { display_name: agent.did });
      await c.register(agent.did, agent.keys.identityKey.publicKey); // 409: idempotent for the client
      await c.uploadPrekeys(agent.did, agent.keys.identityKey.publicKey, agent.keys.identityKeyEd, agent.keys.generateSignedPreKey(), agent.keys.generateOneTimePreKeys(5));
    }

    const record = await bobClient.getAgent(alice.did);
    expect(record).toMatchObject({ did: alice.did, capabilities: ['alice-interop', 'interop'] });
    expect(record!.registeredAt.getTime()).toBeGreaterThan(0);

    const bundle = await bobClient.fetchPrekeys(alice.did);
    expect(bundle).not.toBeNull();
    expect(Buffer.from(bundle!.identityKeyEd)).toEqual(Buffer.from(alice.keys.identityKeyEd));
    expect(bundle!.oneTimePreKeyId).toBeTypeOf('number');
    // The SDK's own X3DH initiator verifies the signed prekey and runs the handshake on our bundle.
    const x3dh = (bob.keys as unknown as { initiate(b: unknown): { usedOneTimeKeyId?: number } }).initiate(bundle);
    expect(x3dh.usedOneTimeKeyId).toBe(bundle!.oneTimePreKeyId);
    const again = await bobClient.fetchPrekeys(alice.did);
    expect(again!.oneTimePreKeyId).not.toBe(bundle!.oneTimePreKeyId);

    const found = await aliceClient.discover('interop');
    expect(found.map((r) => r.did).sort()).toEqual([alice.did, bob.did].sort());

    // Bob's router relays a frame for Alice: Alice's router is told over its Service Bus session.
    const token = identity.mintServiceAccountToken({ subject: 'system:serviceaccount:sb-bob:kars-router', audience: 'kars-mesh' });
    const posted = await fetch(`${host.url}/api/mesh/relay/frames`, {
      method: 'POST', headers: { 'content-type': 'application/json', [ROUTER_TOKEN_HEADER]: token },
      body: JSON.stringify(messageFrame(bob.did, alice.did, 'interop-1')),
    });
    expect(posted.status).toBe(202);
    const receiver = await bus.acceptSession(DEFAULT_MESH_QUEUE, 'sb-alice');
    try {
      const [note] = await receiver.receive(1, { maxWaitMs: 5000 });
      expect(busJson(note!)).toEqual({ v: 1, kind: 'mesh.pending', sandboxId: 'sb-alice', recipientDid: alice.did, messageId: 'interop-1' });
      await receiver.complete(note!);
    } finally {
      await receiver.close();
    }

    // Alice's router fetches the frame from the relay store (real Cosmos query) and acknowledges it.
    const aliceToken = identity.mintServiceAccountToken({ subject: 'system:serviceaccount:sb-alice:kars-router', audience: 'kars-mesh' });
    const relay = (path: string, body: unknown) => fetch(`${host.url}/api/mesh/relay/${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json', [ROUTER_TOKEN_HEADER]: aliceToken }, body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() as { frames?: { id: string }[]; acked?: number } }));
    expect((await relay('pending', { did: alice.did })).body.frames!.map((fr) => fr.id)).toEqual(['interop-1']);
    expect((await relay('ack', { did: alice.did, ids: ['interop-1'] })).body.acked).toBe(1);
    expect((await relay('pending', { did: alice.did })).body.frames).toEqual([]);

    // Bob's router cannot delete Alice; Alice's can.
    await expect(clientFor(alice, 'sb-bob').deleteAgent(alice.did)).rejects.toMatchObject({ status: 403 });
    await aliceClient.deleteAgent(alice.did);
    expect(await bobClient.getAgent(alice.did)).toBeNull();
  }, 120_000);

  it('refuses the client without a router token (401) and a foreign signer (401)', async () => {
    const carol = newAgent('carol-interop');
    const bare = new agt.RegistryClient({ baseUrl: `${host.url}/api/mesh`, maxRetries: 0 });
    await expect(bare.register(carol.did, carol.keys.identityKey.publicKey)).rejects.toMatchObject({ status: 401 });
    const c = clientFor(carol, 'sb-carol');
    await c.register(carol.did, carol.keys.identityKey.publicKey);
    const mallory = newAgent('mallory');
    const forged = clientFor({ ...carol, edPrivate: mallory.edPrivate }, 'sb-carol');
    await expect(forged.uploadPrekeys(carol.did, carol.keys.identityKey.publicKey, carol.keys.identityKeyEd, carol.keys.generateSignedPreKey(), []))
      .rejects.toMatchObject({ status: 401 });
  }, 60_000);
});
