// The AKS SandboxDriver (@kubernetes/client-node): a sandbox is the `kars-sandbox` Deployment in namespace
// `kars-<sandboxId>`. Applying a revision server-side-applies the Deployment's container images (digest-pinned and
// signature-checked first, RR1) with the revision record in an annotation, so a retried apply or a resumed rollout
// finds what it applied and what to roll back to. Health is the Deployment's rollout status as `kubectl rollout status`
// reads it (observedGeneration, updated/available replicas, ProgressDeadlineExceeded = failed); the orchestration polls
// it on durable timers rather than holding a watch open in an activity.
import { KarsError, isKarsError } from '../../core/errors';
import type {
  ApplyRevisionResult,
  SandboxDriver,
  SandboxDriverCallOptions,
  SandboxHealthReport,
  SandboxRevision,
} from '../../core/ports/sandbox-driver.port';
import { loadClientNode, type ClientNode } from './load-client-node';
import { verifiedRevisionImages, type RevisionImageOptions } from './revision-images';

type KubeConfig = InstanceType<ClientNode['KubeConfig']>;
type Deployment = Awaited<ReturnType<InstanceType<ClientNode['AppsV1Api']>['readNamespacedDeployment']>>;

export const SANDBOX_DEPLOYMENT_NAME = 'kars-sandbox';
export const REVISION_ANNOTATION = 'kars.azure.com/revision';
/** JSON `{ current, previous }` of SandboxRevision: the rollback target travels with the Deployment. */
export const REVISION_RECORD_ANNOTATION = 'kars.azure.com/revision-record';
export const ROLLOUT_FIELD_MANAGER = 'kars-rollouts';

export interface KubernetesSandboxDriverOptions {
  /** The cluster's API server and credentials (AKS: Entra token for the AKS server app). Called per operation. */
  kubeConfig(): KubeConfig | Promise<KubeConfig>;
  images: RevisionImageOptions;
  /** Per API call. Default 15000 ms. */
  timeoutMs?: number;
}

interface RevisionRecord {
  current: SandboxRevision;
  previous: SandboxRevision | null;
}

/** `kars-<id>` must stay a DNS-1123 label (63 characters). */
export function sandboxNamespace(sandboxId: string): string {
  if (!/^[a-z0-9](?:[a-z0-9-]{0,56}[a-z0-9])?$/.test(sandboxId)) throw new KarsError('INPUT_INVALID', 'sandbox id does not fit a namespace name');
  return `kars-${sandboxId}`;
}

function readRecord(d: Deployment): RevisionRecord | undefined {
  const text = d.metadata?.annotations?.[REVISION_RECORD_ANNOTATION];
  if (!text) return undefined;
  try {
    const r = JSON.parse(text) as RevisionRecord;
    return typeof r?.current?.id === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Maps client-node failures onto the port's codes; the status code is the only detail kept. */
function translate(e: unknown): KarsError {
  if (isKarsError(e)) return e;
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'number') {
    if (code === 404) return new KarsError('SANDBOX_NOT_FOUND', 'no sandbox deployment with that id');
    // 409: the Deployment changed between read and apply; the activity retries with a fresh read.
    return new KarsError('DEPENDENCY_UNAVAILABLE', `kubernetes API answered ${code}`);
  }
  return new KarsError('DEPENDENCY_UNAVAILABLE', `kubernetes API unreachable (${e instanceof Error ? e.name : 'error'})`);
}

export class KubernetesSandboxDriver implements SandboxDriver {
  constructor(private readonly options: KubernetesSandboxDriverOptions) {}

  async #call<T>(run: (api: InstanceType<ClientNode['AppsV1Api']>, k8s: ClientNode) => Promise<T>, options?: SandboxDriverCallOptions): Promise<T> {
    const k8s = await loadClientNode();
    const api = (await this.options.kubeConfig()).makeApiClient(k8s.AppsV1Api);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KarsError('DEPENDENCY_TIMEOUT', 'kubernetes API did not answer in time')), this.options.timeoutMs ?? 15_000);
      onAbort = () => reject(new KarsError('DEPENDENCY_TIMEOUT', 'kubernetes call aborted'));
      options?.abortSignal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([run(api, k8s), limit]);
    } catch (e) {
      throw translate(e);
    } finally {
      clearTimeout(timer);
      if (onAbort) options?.abortSignal?.removeEventListener('abort', onAbort);
    }
  }

  async applyRevision(sandboxId: string, revision: SandboxRevision, options?: SandboxDriverCallOptions): Promise<ApplyRevisionResult> {
    const images = verifiedRevisionImages(revision, this.options.images);
    if (!images.ok) throw new KarsError(images.code, images.message);
    const namespace = sandboxNamespace(sandboxId);
    return this.#call(async (api, k8s) => {
      const live = await api.readNamespacedDeployment({ name: SANDBOX_DEPLOYMENT_NAME, namespace });
      const record = readRecord(live);
      // Idempotent: the same revision again changes nothing and returns the recorded rollback target.
      if (record?.current.id === revision.id) return { sandboxId, previous: record.previous };
      // A Deployment kars never rolled has no recorded (signed) revision to go back to.
      const next: RevisionRecord = { current: { id: revision.id, spec: revision.spec }, previous: record?.current ?? null };
      const body = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          name: SANDBOX_DEPLOYMENT_NAME,
          namespace,
          // Optimistic concurrency: a Deployment changed since the read is a 409, and the retry reads again.
          resourceVersion: live.metadata?.resourceVersion,
          annotations: { [REVISION_ANNOTATION]: revision.id, [REVISION_RECORD_ANNOTATION]: JSON.stringify(next) },
        },
        spec: {
          template: {
            metadata: { annotations: { [REVISION_ANNOTATION]: revision.id } },
            spec: { containers: Object.entries(images.value).map(([name, image]) => ({ name, image })) },
          },
        },
      };
      await api.patchNamespacedDeployment(
        { name: SANDBOX_DEPLOYMENT_NAME, namespace, body, fieldManager: ROLLOUT_FIELD_MANAGER, force: true },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
      );
      return { sandboxId, previous: next.previous };
    }, options);
  }

  async readHealth(sandboxId: string, options?: SandboxDriverCallOptions): Promise<SandboxHealthReport> {
    const namespace = sandboxNamespace(sandboxId);
    let d: Deployment;
    try {
      d = await this.#call((api) => api.readNamespacedDeployment({ name: SANDBOX_DEPLOYMENT_NAME, namespace }), options);
    } catch (e) {
      if (isKarsError(e) && e.code === 'SANDBOX_NOT_FOUND') return { sandboxId, revisionId: null, status: 'missing' };
      throw e;
    }
    return deploymentHealth(sandboxId, d);
  }
}

/** `kubectl rollout status` semantics over one Deployment read. */
export function deploymentHealth(sandboxId: string, d: Deployment): SandboxHealthReport {
  const revisionId = d.metadata?.annotations?.[REVISION_ANNOTATION] ?? null;
  const at = (status: SandboxHealthReport['status'], reason?: string): SandboxHealthReport =>
    ({ sandboxId, revisionId, status, ...(reason ? { reason } : {}) });
  const s = d.status ?? {};
  if ((s.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return at('progressing', 'NotObserved');
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return at('degraded', 'ProgressDeadlineExceeded');
  const want = d.spec?.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  if (updated < want) return at('progressing', 'Updating');
  if ((s.replicas ?? 0) > updated) return at('progressing', 'OldReplicasPending');
  if ((s.availableReplicas ?? 0) < updated) return at('progressing', 'NotAvailable');
  return at('healthy');
}
