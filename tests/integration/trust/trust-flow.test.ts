// The trust flow end to end on the local stand-ins with the real SDKs: POST /api/trust/updates on the local host →
// the local AMQP broker (@azure/service-bus, session = subject DID) → the queue driver calling the trigger's handler
// → the Cosmos stand-in (@azure/cosmos, ETag replace) → GET /api/trust/graph and /api/trust/scores/{did}.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCosmosClient } from '../../../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers } from '../../../adapters/cosmos/cosmos-containers';
import { CosmosDocumentStore } from '../../../adapters/cosmos/cosmos-document-store';
import { captureLogs } from '../../support/log-sink';
import { createMemoryReceiptSink } from '../../../adapters/memory/memory-edge-receipts';
import { TRUST_CONTAINER, TRUST_REPLAY_CONTAINER, TRUST_UPDATES_QUEUE } from '../../../adapters/trust/trust-containers';
import type { Bus } from '../../../core/ports/bus.port';
import { systemClock } from '../../../core/ports/clock.port';
import { redact } from '../../../core/secrets/redacted';
import type { SignedTrustUpdate } from '../../../core/trust/trust-update';
import { createTrustApplyTrigger } from '../../../functions/trust/apply-trust-trigger';
import { buildTrustDeps } from '../../../functions/trust/build-trust-deps';
import { createTrustRoutes } from '../../../functions/trust/trust-routes';
import { guardRoutes } from '../../../functions/http/guard-routes';
import { startCosmosServer, type LocalCosmosServer } from '../../../infra/local/cosmos/start-cosmos-server';
import { startLocalHost, type LocalHost } from '../../../infra/local/host/local-host';
import { startQueueDriver, type QueueDriver } from '../../../infra/local/host/queue-driver';
import { startAuthorizedBroker, type AuthorizedBroker } from '../../support/authorized-broker';
import { newIssuer, signed, TENANT } from '../../core/trust/trust-fixture';
import { runCli } from '../../../cli/main';
import { checkTrustSignature } from '../../../core/trust/trust-signature';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MASTER = 'master-key-for-trust-flow';
const OBS = 'sandbox-1';
const PEER = 'did:web:peer.example';

let cosmos: LocalCosmosServer;
let broker: AuthorizedBroker;
let bus: Bus;
let host: LocalHost;
let driver: QueueDriver;
let disposeCosmos: () => void;
const issuer = newIssuer();

beforeAll(async () => {
  cosmos = await startCosmosServer();
  broker = await startAuthorizedBroker({ queues: [{ name: TRUST_UPDATES_QUEUE, requiresSession: true }], strictQueues: true, appOwnsNamespace: true });
  const client = createCosmosClient({ endpoint: cosmos.endpoint, key: redact(cosmos.key) });
  disposeCosmos = () => client.dispose();
  const containers = await ensureCosmosContainers(client, 'trust-flow', [TRUST_CONTAINER, TRUST_REPLAY_CONTAINER]);
  bus = broker.bus(broker.app, { sessionWaitMs: 1000, operationTimeoutMs: 10_000 });
  const logger = captureLogs({ component: 'trust-flow-test' }).logger;
  const deps = buildTrustDeps({
    trustDocuments: new CosmosDocumentStore(containers.get(TRUST_CONTAINER.id)!),
    replayDocuments: new CosmosDocumentStore(containers.get(TRUST_REPLAY_CONTAINER.id)!),
    bus, receipts: createMemoryReceiptSink(), clock: systemClock, logger,
  });
  // Guarded as the route table guards them (no Entra settings locally: the local host's key check stands in).
  const routes = guardRoutes(createTrustRoutes(async () => deps), { operatorAuthenticator: () => undefined, logger });
  host = await startLocalHost({ routes, keys: { functionKey: 'fn-key', masterKey: MASTER }, logger, port: 0 });
  driver = startQueueDriver({ bus, triggers: [createTrustApplyTrigger(async () => deps)], logger });
}, 60_000);

afterAll(async () => {
  await driver?.stop();
  await host?.close();
  await bus?.close();
  disposeCosmos?.();
  await broker?.stop();
  await cosmos?.stop();
});

const api = (path: string, init: RequestInit = {}, key = MASTER) =>
  fetch(`${host.url}/api/${path}`, { ...init, headers: { 'content-type': 'application/json', 'x-functions-key': key, ...(init.headers ?? {}) } });
const post = (updates: SignedTrustUpdate[], key = MASTER) => api('trust/updates', { method: 'POST', body: JSON.stringify({ updates }) }, key);
const explicit = (delta: number) => signed(issuer, Date.now(), { type: 'signal', observer: OBS, subject: PEER, kind: 'explicit', delta });

async function waitForVersion(version: number): Promise<{ graph: { version: number } }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await api(`trust/graph?tenant=${TENANT}&since=${version - 1}`);
    const body = (await r.json()) as { changed: boolean; graph?: { version: number } };
    if (body.changed && body.graph!.version >= version) return body as { graph: { version: number } };
    if (Date.now() > deadline) throw new Error(`trust graph never reached version ${version}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('trust flow on the local broker and Cosmos stand-in', () => {
  it('operator routes need the admin key', async () => {
    expect((await post([explicit(1)], 'fn-key')).status).toBe(401);
    expect((await api(`trust/graph?tenant=${TENANT}`, {}, 'fn-key')).status).toBe(401);
  });

  it('refuses updates from a key the tenant has not registered, then applies them in session order once it has', async () => {
    const first = await post([explicit(200)]);
    expect(first.status).toBe(403);
    expect(await first.json()).toMatchObject({ code: 'TRUST_ISSUER_UNAUTHORIZED' });
    expect((await api(`manage/trust/issuers/${TENANT}`, { method: 'PUT', body: JSON.stringify({ keys: [issuer.key] }) })).status).toBe(200);

    // Order matters: from a stranger's 300, −200 then four +200 ends at 900; the reverse order would end at 800.
    const sequence = [-200, 200, 200, 200, 200];
    for (const d of sequence) expect((await post([explicit(d)])).status).toBe(202);
    const { graph } = await waitForVersion(sequence.length);
    expect(graph.version).toBe(sequence.length);
    const score = await (await api(`trust/scores/${PEER}?tenant=${TENANT}&observer=${OBS}`)).json();
    expect(score).toMatchObject({ subject: PEER, observer: OBS, score: 900, source: 'direct', version: sequence.length });
    expect((await (await api(`trust/graph?tenant=${TENANT}&since=${sequence.length}`)).json())).toEqual({ changed: false, version: sequence.length });
  }, 60_000);

  it('a replayed or unsigned update is refused whole and changes nothing', async () => {
    const before = await waitForVersion(1);
    const capture = explicit(-200);
    expect((await post([capture])).status).toBe(202);
    await waitForVersion(before.graph.version + 1);
    const replay = await post([explicit(100), capture]);
    expect(replay.status).toBe(409);
    expect(await replay.json()).toMatchObject({ code: 'TRUST_UPDATE_REPLAY' });
    const unsigned = await post([{ payload: explicit(100).payload }]);
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ code: 'TRUST_SIGNATURE_INVALID', message: 'update 0 is not validly signed' });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await (await api(`trust/graph?tenant=${TENANT}&since=${before.graph.version + 1}`)).json())).toMatchObject({ changed: false });
  }, 60_000);

  it('kars trust sign --post and kars trust show drive the same routes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kars-trust-cli-'));
    writeFileSync(join(dir, 'issuer.pem'), issuer.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), env: { ADMIN: MASTER }, cwd: dir };
    const subject = 'did:web:cli.example';
    const signArgs = ['trust', 'sign', '--tenant', TENANT, '--key-file', 'issuer.pem', '--signal', 'explicit', '--observer', OBS,
      '--subject', subject, '--delta', '150', '--post', '--url', host.url, '--key-env', 'ADMIN'];
    const current = ((await (await api(`trust/graph?tenant=${TENANT}`)).json()) as { graph: { version: number } }).graph.version;
    expect(await runCli(signArgs, io)).toBe(0);
    expect(lines).toContain(`issuer ${issuer.key}`);
    await waitForVersion(current + 1);
    lines.length = 0;
    expect(await runCli(['trust', 'show', subject, '--tenant', TENANT, '--observer', OBS, '--url', host.url, '--key-env', 'ADMIN'], io)).toBe(0);
    expect(lines[0]).toBe(`${subject}: 450 (probationary) from direct trust of ${OBS}, graph version ${current + 1}`);
    expect(lines[1]).toContain(`${OBS} → ${subject}  [450]`);
    // Without --post the signed body goes to stdout and verifies.
    lines.length = 0;
    expect(await runCli(signArgs.slice(0, -5), io)).toBe(0);
    const body = JSON.parse(lines.find((l) => l.startsWith('{'))!) as { updates: SignedTrustUpdate[] };
    expect(checkTrustSignature(body.updates[0]!)).toEqual({ ok: true });
  }, 60_000);

  it('refuses malformed input early with INPUT_INVALID', async () => {
    expect((await api('trust/updates', { method: 'POST', body: '{"updates":[]}' })).status).toBe(400);
    expect((await api(`trust/scores/not-a-did?tenant=${TENANT}&observer=${OBS}`)).status).toBe(400);
    expect((await api(`trust/graph?tenant=${TENANT}&tenant=other`)).status).toBe(400);
  });
});
