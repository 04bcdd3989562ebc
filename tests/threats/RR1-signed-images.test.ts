// Residual risk 1 (cosign-on-admission): the Kyverno policy in infra/k8s/admission rejects sandbox pods whose images
// Defends: kyverno-verify-images, registry-allowlist, cosign-signature-check, rollout-image-preflight
// are not from the kars repository or not signed by the configured release key. No cluster runs here, so this checks
// what can be checked offline: the policy's structure and scope, that every image of our own pod falls under the
// signature rule (verifyImages silently skips non-matching images), and, with the real payload format, that a
// signature only verifies for the configured key, repository and digest.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  cosignSimpleSigningPayload, parseDigestReference, verifyCosignImageSignature,
} from '../../core/images/verify-image-signature';
import { allContainers, restrictedViolations } from '../hardening/pss-restricted';
import { KubernetesSandboxDriver } from '../../adapters/kubernetes/kubernetes-sandbox-driver';
import { loadClientNode } from '../../adapters/kubernetes/load-client-node';
import type { RevisionImageCheck } from '../../adapters/kubernetes/revision-images';
import { ensureDevTls } from '../../infra/local/tls/dev-tls';
import { startRecordedAppsApi } from '../adapters/kubernetes/support/recorded-apps-api';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const K8S = join(__dirname, '../../infra/k8s');
const loadDocs = (f: string): Obj[] => parseAllDocuments(readFileSync(join(K8S, f), 'utf8')).map((d) => d.toJS() as Obj);
const policy = loadDocs('admission/kyverno-sandbox-images.yaml').find((d) => d.kind === 'ClusterPolicy')!;
const rules: Obj[] = policy.spec.rules;
const rule = (name: string): Obj => rules.find((r) => r.name === name)!;
const podSpec: Obj = loadDocs('sandbox/deployment.yaml').find((d) => d.kind === 'Deployment')!.spec.template.spec;
const sandboxNs: Obj = loadDocs('sandbox/namespace.yaml')[0]!;

/** Kyverno's wildcard semantics for image patterns: `*` any run of characters, `?` exactly one. */
function wildcard(pattern: string, s: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(s);
}

/** What the require-kars-registry pattern admits, evaluated for every container kind it lists. */
function registryRuleAdmits(spec: Obj): boolean {
  const pattern = rule('require-kars-registry').validate.pattern.spec as Obj;
  const pick = (key: string): string | undefined => {
    const k = Object.keys(pattern).find((x) => x === key || x === `=(${key})`);
    return k ? (pattern[k] as Obj[])[0]!.image : undefined;
  };
  return allContainers(spec).every(({ where, c }) => {
    const kind = where.slice(0, where.indexOf('['));
    const p = pick(kind);
    // Kyverno patterns constrain only the fields they name: a container kind the pattern omits is admitted as is.
    return p === undefined || wildcard(p, c.image);
  });
}

describe('RR1 admission policy structure', () => {
  it('is enforcing, fails closed when the webhook is down, and is not a background audit', () => {
    expect(policy.apiVersion).toBe('kyverno.io/v1');
    expect(policy.spec.validationFailureAction).toBe('Enforce');
    expect(policy.spec.failurePolicy).toBe('Fail');
    expect(policy.spec.background).toBe(false);
  });

  it('every rule selects by the sandbox namespace label, which our sandbox namespace carries', () => {
    for (const r of rules) {
      const sel = r.match.any[0].resources.namespaceSelector.matchLabels;
      expect(sel, r.name).toEqual({ 'kars.azure.com/sandbox': 'true' });
      for (const [k, val] of Object.entries(sel)) expect(sandboxNs.metadata.labels[k]).toBe(val);
    }
    expect(rule('require-kars-registry').match.any[0].resources.kinds).toEqual(['Pod']);
    expect(rule('deny-ephemeral-containers').match.any[0].resources.kinds).toEqual(['Pod/ephemeralcontainers']);
    expect(rule('deny-exec').match.any[0].resources.kinds).toEqual(['Pod/exec', 'Pod/attach']);
  });

  it('requires a digest-pinned, signed image by exactly one pinned P-256 key', () => {
    const vi = rule('verify-kars-signature').verifyImages as Obj[];
    expect(vi).toHaveLength(1);
    expect(vi[0]).toMatchObject({ type: 'Cosign', required: true, mutateDigest: true, verifyDigest: true });
    const entries = vi[0]!.attestors[0].entries as Obj[];
    expect(vi[0]!.attestors[0].count).toBe(1);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.keys.signatureAlgorithm).toBe('sha256');
    const pem: string = entries[0]!.keys.publicKeys;
    // A syntactically valid key that is not the signer must be rejected: proves the PEM parses as P-256.
    const r = verifyCosignImageSignature(`kars.azurecr.io/kars/agent@sha256:${'a'.repeat(64)}`,
      { payload: new Uint8Array([1]), signatureBase64: 'AAAA' }, pem);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toBe('signature does not verify with the configured key');
  });

  it('every image of the sandbox pod falls under the signature rule (no image escapes verification)', () => {
    const refs: string[] = rule('verify-kars-signature').verifyImages[0].imageReferences;
    const registryPattern = rule('require-kars-registry').validate.pattern.spec.containers[0].image;
    expect(refs).toEqual([registryPattern]); // the two rules must cover the same set, or a gap opens between them
    for (const { c } of allContainers(podSpec)) expect(refs.some((p) => wildcard(p, c.image)), c.image).toBe(true);
    expect(registryRuleAdmits(podSpec)).toBe(true);
  });

  it('an attacker image in an otherwise compliant pod passes Pod Security but not the registry rule', () => {
    for (const [kind, image] of [['containers', 'docker.io/library/busybox:latest'], ['initContainers', 'ghcr.io/evil/kars/agent:1'],
      ['containers', 'kars.azurecr.io.evil.com/kars/agent:1'], ['containers', 'evil.io/x/kars.azurecr.io/kars/agent']]) {
      const spec = JSON.parse(JSON.stringify(podSpec)) as Obj;
      const template = { ...spec.containers[0], name: 'evil', image };
      spec[kind!] = [...(spec[kind!] ?? []), template];
      expect(restrictedViolations(spec)).toEqual([]); // PSS alone would admit it: the signature policy is the control
      expect(registryRuleAdmits(spec), image).toBe(false);
      const refs: string[] = rule('verify-kars-signature').verifyImages[0].imageReferences;
      expect(refs.some((p) => wildcard(p, image!))).toBe(false); // and verifyImages would have skipped it
    }
  });
});

describe('RR1 offline signature check (cosign simple-signing format, ECDSA P-256)', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const releasePem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const digest = `sha256:${createHash('sha256').update('agent image manifest').digest('hex')}`;
  const image = `kars.azurecr.io/kars/agent@${digest}`;
  const signPayload = (p: Uint8Array, key = privateKey) => sign('sha256', p, { key, dsaEncoding: 'der' }).toString('base64');
  const parsed = parseDigestReference(image);
  if (!parsed.ok) throw new Error(parsed.message);
  const payload = cosignSimpleSigningPayload(parsed.value);

  it('accepts a signature by the configured key over this repository and digest', () => {
    const r = verifyCosignImageSignature(image, { payload, signatureBase64: signPayload(payload) }, releasePem);
    expect(r).toEqual({ ok: true, value: { repository: 'kars.azurecr.io/kars/agent', digest } });
  });

  it('rejects a signature by any other key (not the configured identity)', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const r = verifyCosignImageSignature(image, { payload, signatureBase64: signPayload(payload, other) }, releasePem);
    expect(r.ok).toBe(false);
  });

  it('rejects a valid signature replayed onto another digest or repository, a tampered payload, and tags', () => {
    const otherDigest = `kars.azurecr.io/kars/agent@sha256:${'b'.repeat(64)}`;
    expect(verifyCosignImageSignature(otherDigest, { payload, signatureBase64: signPayload(payload) }, releasePem))
      .toMatchObject({ ok: false, message: 'signature is for another digest' });
    const otherRepo = `kars.azurecr.io/kars/router@${digest}`;
    expect(verifyCosignImageSignature(otherRepo, { payload, signatureBase64: signPayload(payload) }, releasePem))
      .toMatchObject({ ok: false, message: 'signature is for another repository' });
    const tampered = Uint8Array.from(payload);
    tampered[tampered.length - 3]! ^= 1;
    expect(verifyCosignImageSignature(image, { payload: tampered, signatureBase64: signPayload(payload) }, releasePem).ok).toBe(false);
    expect(verifyCosignImageSignature('kars.azurecr.io/kars/agent:0.1.0', { payload, signatureBase64: signPayload(payload) }, releasePem))
      .toMatchObject({ ok: false, code: 'IMAGE_SIGNATURE_INVALID' });
  });

  it('a signed payload that is not a cosign image signature is refused even with a good signature', () => {
    const fake = new TextEncoder().encode(JSON.stringify({ critical: { type: 'something else', image: { 'docker-manifest-digest': digest } } }));
    expect(verifyCosignImageSignature(image, { payload: fake, signatureBase64: signPayload(fake) }, releasePem))
      .toMatchObject({ ok: false, message: 'signed payload is not a cosign image signature' });
  });
});

// The rollout pre-flight (adapters/kubernetes/revision-images.ts): the AKS SandboxDriver sends a revision to the API
// server only when every image is digest-pinned and signed by the release key, so a rollout cannot put an unsigned
// image into a Deployment (nor record one as a rollback target) even where admission is misconfigured.
describe('RR1 rollout pre-flight: the AKS driver rolls only signed, digest-pinned images', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const releasePem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const ref = (tag: string) => `kars.azurecr.io/kars/router@sha256:${createHash('sha256').update(tag).digest('hex')}`;
  const sig = (image: string, key = privateKey) => {
    const p = parseDigestReference(image);
    if (!p.ok) throw new Error(p.message);
    const payload = cosignSimpleSigningPayload(p.value);
    return { payload: Buffer.from(payload).toString('base64'), signature: sign('sha256', payload, { key, dsaEncoding: 'der' }).toString('base64') };
  };
  const attacks = {
    unsigned: { id: 'a1', spec: { images: { router: ref('evil') } } },
    'signed by another key': { id: 'a2', spec: { images: { router: ref('evil') }, signatures: { router: sig(ref('evil'), attacker) } } },
    'signature of another digest': { id: 'a3', spec: { images: { router: ref('evil') }, signatures: { router: sig(ref('good')) } } },
  };

  async function driverAgainstApi(disable: readonly RevisionImageCheck[]) {
    const tls = await ensureDevTls();
    const good = ref('good');
    const api = await startRecordedAppsApi({ tls, sandboxes: [{ namespace: 'kars-victim', images: { agent: good, router: good }, record: null }] });
    const k8s = await loadClientNode();
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'aks', server: api.url, caData: Buffer.from(tls.caCertPem).toString('base64') }],
      users: [{ name: 'u', token: 't' }], contexts: [{ name: 'c', cluster: 'aks', user: 'u' }], currentContext: 'c',
    });
    return { api, driver: new KubernetesSandboxDriver({ kubeConfig: () => kc, images: { publicKeyPem: releasePem, _disable: disable } }) };
  }

  it('refuses each unsigned or mis-signed image before any API call; a tag is refused even with the check off', async () => {
    const { api, driver } = await driverAgainstApi([]);
    try {
      for (const [name, revision] of Object.entries(attacks)) {
        await expect(driver.applyRevision('victim', revision), name).rejects.toMatchObject({ code: 'IMAGE_SIGNATURE_INVALID' });
      }
      await expect(driver.applyRevision('victim', { id: 'a4', spec: { images: { router: 'kars.azurecr.io/kars/router:latest' } } }))
        .rejects.toMatchObject({ code: 'IMAGE_SIGNATURE_INVALID' });
      expect(api.requests).toEqual([]);
      // The signed image goes through (the check is not refusing everything).
      await driver.applyRevision('victim', { id: 'ok', spec: { images: { router: ref('good') }, signatures: { router: sig(ref('good')) } } });
      expect(api.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    } finally {
      await api.close();
    }
    const off = await driverAgainstApi(['image-signature']);
    try {
      await expect(off.driver.applyRevision('victim', { id: 'a4', spec: { images: { router: 'kars.azurecr.io/kars/router:latest' } } }))
        .rejects.toMatchObject({ code: 'IMAGE_SIGNATURE_INVALID' });
      // Mitigation off: every unsigned image reaches the Deployment.
      for (const revision of Object.values(attacks)) await off.driver.applyRevision('victim', revision);
      expect(off.api.deployment('kars-victim')!.spec.template.spec.containers[1].image).toBe(ref('evil'));
      expect(off.api.requests.filter((r) => r.method === 'PATCH')).toHaveLength(3);
    } finally {
      await off.api.close();
    }
  });
});
