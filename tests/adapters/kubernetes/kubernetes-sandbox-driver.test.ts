// The AKS SandboxDriver with the real @kubernetes/client-node over real TLS against recorded apps/v1 responses
// (support/recorded-apps-api.ts; no cluster runs here): server-side apply of signed digest-pinned images with the
// revision record, rollout status as kubectl reads it, and a sandbox rollout (local Durable runner on Azurite) whose
// new image exceeds its progress deadline and is rolled back on every applied sandbox.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevTls } from '../../../infra/local/tls/dev-tls';
import { loadClientNode } from '../../../adapters/kubernetes/load-client-node';
import { KubernetesSandboxDriver, REVISION_RECORD_ANNOTATION } from '../../../adapters/kubernetes/kubernetes-sandbox-driver';
import { cosignSimpleSigningPayload, parseDigestReference } from '../../../core/images/verify-image-signature';
import { startAzurite, type AzuriteHandle } from '../../../infra/local/azurite/start-azurite';
import { startLocalDurableRunner, type LocalDurableRunner } from '../../../infra/local/durable/local-durable-runner';
import { DurableRegistry } from '../../../adapters/durable/durable-registry';
import { registerRolloutFunctions } from '../../../functions/rollouts/register-rollout-functions';
import { SANDBOX_ROLLOUT_ORCHESTRATOR } from '../../../functions/rollouts/rollout-names';
import { redact } from '../../../core/secrets/redacted';
import type { RolloutResult } from '../../../core/rollouts/rollout-ledger';
import type { SandboxHealthReport, SandboxRevision } from '../../../core/ports/sandbox-driver.port';
import { startRecordedAppsApi, type RecordedAppsApi, type SeededSandbox } from './support/recorded-apps-api';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const releasePem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const image = (repo: 'agent' | 'router', tag: string) =>
  `kars.azurecr.io/kars/${repo}@sha256:${createHash('sha256').update(`${repo} ${tag}`).digest('hex')}`;

function signed(id: string, images: { agent?: string; router?: string }): SandboxRevision {
  const signatures: Record<string, { payload: string; signature: string }> = {};
  for (const [name, ref] of Object.entries(images)) {
    const parsed = parseDigestReference(ref!);
    if (!parsed.ok) throw new Error(parsed.message);
    const payload = cosignSimpleSigningPayload(parsed.value);
    signatures[name] = { payload: Buffer.from(payload).toString('base64'), signature: sign('sha256', payload, { key: privateKey, dsaEncoding: 'der' }).toString('base64') };
  }
  return { id, spec: { images, signatures } };
}

const v1 = signed('r1', { agent: image('agent', '1'), router: image('router', '1') });
const v2 = signed('r2', { router: image('router', '2') });
const seeded = (namespace: string): SeededSandbox => ({
  namespace, images: { agent: image('agent', '1'), router: image('router', '1') }, record: { current: v1, previous: null },
});

let api: RecordedAppsApi;
let driver: KubernetesSandboxDriver;

beforeAll(async () => {
  const tls = await ensureDevTls();
  api = await startRecordedAppsApi({
    tls, sandboxes: [seeded('kars-box-a'), seeded('kars-box-b'), { ...seeded('kars-fresh'), record: null }],
    crashingImages: new Set([image('router', 'crash')]),
  });
  const k8s = await loadClientNode();
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'aks', server: api.url, caData: Buffer.from(tls.caCertPem).toString('base64') }],
    users: [{ name: 'kars', token: 'entra-token-for-aks' }],
    contexts: [{ name: 'aks', cluster: 'aks', user: 'kars' }],
    currentContext: 'aks',
  });
  driver = new KubernetesSandboxDriver({ kubeConfig: () => kc, images: { publicKeyPem: releasePem } });
});

afterAll(async () => {
  await api?.close();
});

async function untilSettled(id: string): Promise<SandboxHealthReport[]> {
  const seen: SandboxHealthReport[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await driver.readHealth(id);
    seen.push(r);
    if (r.status !== 'progressing') break;
  }
  return seen;
}

describe('KubernetesSandboxDriver over recorded API responses', () => {
  it('server-side-applies the signed images with the revision record, then reads the rollout to healthy; re-apply is a no-op', async () => {
    const before = api.requests.length;
    expect(await driver.applyRevision('box-a', v2)).toEqual({ sandboxId: 'box-a', previous: v1 });
    const patch = api.requests.slice(before).find((r) => r.method === 'PATCH')!;
    expect(patch.path).toBe('/apis/apps/v1/namespaces/kars-box-a/deployments/kars-sandbox');
    expect(patch.contentType).toBe('application/apply-patch+yaml');
    expect(patch.query).toMatchObject({ fieldManager: 'kars-rollouts', force: 'true' });
    expect(patch.authorization).toBe('Bearer entra-token-for-aks');
    expect(patch.body!.metadata.resourceVersion).toBe('48211');
    expect(patch.body!.spec.template.spec.containers).toEqual([{ name: 'router', image: image('router', '2') }]);
    expect(JSON.parse(patch.body!.metadata.annotations[REVISION_RECORD_ANNOTATION])).toEqual({ current: v2, previous: v1 });

    const seen = await untilSettled('box-a');
    expect(seen.map((r) => r.reason ?? r.status)).toEqual(['NotObserved', 'Updating', 'NotAvailable', 'healthy']);
    expect(seen.at(-1)).toEqual({ sandboxId: 'box-a', revisionId: 'r2', status: 'healthy' });
    const containers = api.deployment('kars-box-a')!.spec.template.spec.containers;
    expect(containers.map((c: { image: string }) => c.image)).toEqual([image('agent', '1'), image('router', '2')]);

    const patches = api.requests.filter((r) => r.method === 'PATCH').length;
    expect(await driver.applyRevision('box-a', v2)).toEqual({ sandboxId: 'box-a', previous: v1 });
    expect(api.requests.filter((r) => r.method === 'PATCH').length).toBe(patches);
  });

  it('maps a missing Deployment and a Deployment kars never rolled', async () => {
    expect(await driver.readHealth('gone')).toEqual({ sandboxId: 'gone', revisionId: null, status: 'missing' });
    await expect(driver.applyRevision('gone', v2)).rejects.toMatchObject({ code: 'SANDBOX_NOT_FOUND' });
    // No recorded signed revision: nothing a rollback could re-apply.
    expect(await driver.applyRevision('fresh', v2)).toEqual({ sandboxId: 'fresh', previous: null });
  });

  it('a rollout whose new image exceeds its progress deadline halts and rolls every applied sandbox back', async () => {
    const azurite: AzuriteHandle = await startAzurite({ blobPort: 0, queuePort: 0, tablePort: 0 });
    const registry = new DurableRegistry();
    registerRolloutFunctions({ getSandboxDriver: () => driver }, { registry, azure: false });
    const runner: LocalDurableRunner = await startLocalDurableRunner({ connectionString: redact(azurite.connectionString), taskHub: 'K8sRollout', registry, pollIntervalMs: 250 });
    try {
      const crash = signed('r3', { router: image('router', 'crash') });
      const id = await runner.startNew(SANDBOX_ROLLOUT_ORCHESTRATOR, {
        input: { revision: crash, sandboxIds: ['box-b'], health: { intervalMs: 50, maxChecks: 20 }, applyRetry: { intervalMs: 10, maxAttempts: 2 } },
      });
      const done = await runner.waitForCompletion(id, { timeoutMs: 20_000 });
      const result = done.output as RolloutResult;
      expect(result).toMatchObject({ outcome: 'RolledBack', haltReason: 'failure-threshold', failed: [{ sandboxId: 'box-b', reason: 'ProgressDeadlineExceeded' }], rolledBack: ['box-b'] });
      const patches = api.requests.filter((r) => r.method === 'PATCH' && r.path.includes('kars-box-b'));
      expect(patches.map((p) => p.body!.metadata.annotations['kars.azure.com/revision'])).toEqual(['r3', 'r1']);
      const live = api.deployment('kars-box-b')!;
      expect(live.spec.template.spec.containers.map((c: { image: string }) => c.image)).toEqual([image('agent', '1'), image('router', '1')]);
      expect(live.metadata.annotations['kars.azure.com/revision']).toBe('r1');
    } finally {
      await runner.stop();
      await azurite.stop();
    }
  });
});
