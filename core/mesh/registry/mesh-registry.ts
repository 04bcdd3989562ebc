// The AgentMesh registry (AGENTMESH-WIRE-1.0 §11) over the DocumentStore, compatible with the AGT 4.x RegistryClient.
// Security additions (T4-S, registry half; ARCHITECTURE §4):
//  - every call comes from a router authenticated as its sandbox; a DID is bound to the sandbox that registered it and
//    only that sandbox's router may upload its prekeys or delete it (and post / fetch / ack at the relay);
//  - Ed25519-Timestamp (§13.1) is required for prekey uploads and, once an Ed25519 key is bound, deletion; on other
//    calls it is verified whenever present and verifiable (±300 s, replay refused through the shared replay store);
//  - the Ed25519 identity key is bound at the first prekey upload, by proof of possession (the header verifies under the
//    uploaded key), and cannot change afterwards; the signed prekey must verify under it;
//  - each one-time prekey is handed out exactly once: the pop is an If-Match replace, retried on conflict;
//  - every call takes a token from its caller's bucket (the router's sandbox) and the registry's global one first
//    (T4-D): a compromised router cannot drain another agent's one-time prekeys or flood registrations.
import { isKarsError } from '../../errors';
import type { Clock } from '../../ports/clock.port';
import type { DocumentStore, VersionedDocument } from '../../ports/document-store.port';
import type { EdgeLimiter } from '../../ports/edge-limiter.port';
import type { Logger } from '../../ports/logger.port';
import type { ReplayGuard } from '../../ports/replay-guard.port';
import type { RouterCaller } from '../../ports/router-authenticator.port';
import type { Sleep } from '../../ports/sleep.port';
import { sha256Hex } from '../../crypto/sha256-hex';
import { answer, forbidden, refuse, unauthenticated, type MeshOutcome } from '../mesh-outcome';
import { isOn, type MeshMitigation } from '../mesh-switches';
import { AGENT_DOC_ID, sandboxPartition, type AgentDoc, type CapabilityEntryDoc, type SandboxBindingDoc } from './agent-record';
import { decodeBase64UrlStrict } from './base64url';
import {
  authReplayKey, checkEd25519Timestamp, DEFAULT_AUTH_TOLERANCE_SEC, parseEd25519TimestampHeader, type AuthRefusal,
} from './ed25519-timestamp-auth';
import { checkPrekeyUpload, type PrekeyUpload } from './prekey-bundle';

export interface MeshRegistryDeps {
  /** Agents, sandbox bindings and the capability index (container `mesh-agents`). */
  agents: DocumentStore;
  /** Ed25519-Timestamp replay claims (container `mesh-replay`). */
  replay: ReplayGuard;
  /** Global bucket + one bucket per calling sandbox (core/limits through the EdgeLimiter port). */
  limiter: EdgeLimiter;
  clock: Clock;
  sleep: Sleep;
  logger: Logger;
}

export interface MeshRegistryOptions {
  toleranceSec?: number;
  /** If-Match attempts for one prekey pop before answering 503 (the client retries 5xx). Default 64. */
  maxCasAttempts?: number;
  /** Tenant key of the registry's buckets in the limiter. Default `mesh-registry`. */
  limitTenant?: string;
  /** Tests only: mitigations to switch off. Never read from configuration. */
  _disable?: readonly MeshMitigation[];
}

export interface RegisterInput {
  did: string;
  public_key: string;
  capabilities: string[];
  metadata: Record<string, string>;
}

const DEFAULT_REPUTATION = 0.5;
const capabilityPartition = (capability: string): string => `cap:${sha256Hex(capability)}`;
/** Limiter key of a calling router's sandbox: a digest, so any sandbox name fits the limiter's id rules. */
export const callerLimitKey = (sandboxId: string): string => `sandbox-${sha256Hex(sandboxId).slice(0, 32)}`;

export interface MeshRegistry {
  register(caller: RouterCaller, input: RegisterInput, authorization: string | null): Promise<MeshOutcome>;
  getAgent(caller: RouterCaller, did: string, authorization: string | null): Promise<MeshOutcome>;
  deleteAgent(caller: RouterCaller, did: string, authorization: string | null): Promise<MeshOutcome>;
  uploadPrekeys(caller: RouterCaller, did: string, upload: PrekeyUpload, authorization: string | null): Promise<MeshOutcome>;
  fetchPrekeys(caller: RouterCaller, did: string, authorization: string | null): Promise<MeshOutcome>;
  discover(caller: RouterCaller, capability: string, limit: number, authorization: string | null): Promise<MeshOutcome>;
  /** The sandbox a DID is bound to (the relay's directory); undefined when not registered. */
  sandboxOf(did: string): Promise<string | undefined>;
}

export function createMeshRegistry(deps: MeshRegistryDeps, options: MeshRegistryOptions = {}): MeshRegistry {
  const { agents, clock, logger } = deps;
  const tolerance = options.toleranceSec ?? DEFAULT_AUTH_TOLERANCE_SEC;
  const maxCas = options.maxCasAttempts ?? 64;
  const on = (m: MeshMitigation): boolean => isOn(options._disable, m);
  const limitTenant = options.limitTenant ?? 'mesh-registry';

  /** One token from the caller's and the global bucket, before any other work (T4-D). */
  async function admit(caller: RouterCaller, route: string): Promise<MeshOutcome<never> | undefined> {
    if (!on('registry-rate-limits')) return undefined;
    const admission = await deps.limiter.admit(limitTenant, callerLimitKey(caller.sandboxId));
    if (admission.outcome === 'allowed') return undefined;
    logger.warn('mesh.rate_limited', { route, sandboxId: caller.sandboxId, reason: admission.scope });
    return refuse('LIMIT_RATE_EXCEEDED', 'registry rate limit exceeded', admission.outcome === 'rate-limited' ? admission.retryAfterMs : 1000);
  }

  const readAgent = (did: string): Promise<VersionedDocument<AgentDoc> | undefined> => agents.read<AgentDoc>(did, AGENT_DOC_ID);
  /** The agent as readers see it: absent while a delete is under way. */
  const readLiveAgent = async (did: string): Promise<VersionedDocument<AgentDoc> | undefined> => {
    const agent = await readAgent(did);
    return agent?.doc.deletingAtMs === undefined ? agent : undefined;
  };

  const refuseAuth = (reason: AuthRefusal | 'required', route: string, caller: RouterCaller): MeshOutcome<never> => {
    logger.warn('mesh.auth_refused', { route, reason, sandboxId: caller.sandboxId });
    return unauthenticated();
  };

  /**
   * Verifies an Ed25519-Timestamp header against `key` (the DID's bound key, or the key being bound) and claims it in
   * the replay store. `expectedDid` is the DID the header must name.
   */
  async function verifyHeader(
    authorization: string | null, expectedDid: string | undefined, key: Uint8Array | undefined, route: string, caller: RouterCaller,
  ): Promise<{ ok: true; did: string } | { ok: false; outcome: MeshOutcome<never> }> {
    const parsed = parseEd25519TimestampHeader(authorization);
    if (!parsed.ok) return { ok: false, outcome: refuseAuth(parsed.code, route, caller) };
    const auth = parsed.value;
    if (expectedDid !== undefined && auth.did !== expectedDid) return { ok: false, outcome: refuseAuth('did-mismatch', route, caller) };
    if (on('ed25519-auth')) {
      if (!key) return { ok: false, outcome: refuseAuth('unknown-did', route, caller) };
      const checked = checkEd25519Timestamp(auth, key, clock.nowMs(), tolerance);
      if (!checked.ok) return { ok: false, outcome: refuseAuth(checked.code, route, caller) };
    }
    if (on('auth-replay')) {
      // Kept past the far edge of the window, so the same header can never be fresh again.
      const claim = await deps.replay.claim(authReplayKey(auth), auth.atMs + tolerance * 1000 + 60_000, clock.nowMs());
      if (claim.status === 'replayed') return { ok: false, outcome: refuseAuth('replay', route, caller) };
    }
    return { ok: true, did: auth.did };
  }

  /** An optional header on a read: when present it must verify, under the key of a DID bound to the calling sandbox. */
  async function verifyOptionalCaller(authorization: string | null, route: string, caller: RouterCaller): Promise<MeshOutcome<never> | undefined> {
    if (authorization === null || authorization === '') return undefined;
    const parsed = parseEd25519TimestampHeader(authorization);
    if (!parsed.ok) return refuseAuth(parsed.code, route, caller);
    const own = await readLiveAgent(parsed.value.did);
    if (!own) return refuseAuth('unknown-did', route, caller);
    if (on('sandbox-binding') && own.doc.sandboxId !== caller.sandboxId) return refuseAuth('did-mismatch', route, caller);
    // Registered but no Ed25519 key bound yet (before its first prekey upload): nothing to verify against.
    if (!own.doc.identityKeyEd) return undefined;
    const v = await verifyHeader(authorization, undefined, decodeBase64UrlStrict(own.doc.identityKeyEd, 32), route, caller);
    return v.ok ? undefined : v.outcome;
  }

  const boundToCaller = (agent: AgentDoc, caller: RouterCaller): boolean => !on('sandbox-binding') || agent.sandboxId === caller.sandboxId;

  async function writeCapabilities(doc: AgentDoc): Promise<void> {
    const entry = (cap: string): CapabilityEntryDoc => ({ id: sha256Hex(doc.did), did: doc.did, capabilities: doc.capabilities, lastSeenMs: doc.lastSeenMs });
    await Promise.all(doc.capabilities.map((cap) => agents.upsert(capabilityPartition(cap), entry(cap))));
  }

  async function bindSandbox(caller: RouterCaller, did: string): Promise<{ ok: true; etag?: string } | { ok: false }> {
    const pk = sandboxPartition(caller.sandboxId);
    try {
      const { etag } = await agents.create(pk, { id: 'binding', sandboxId: caller.sandboxId, did } satisfies SandboxBindingDoc);
      return { ok: true, etag };
    } catch (e) {
      if (!(isKarsError(e) && e.code === 'STORE_CONFLICT')) throw e;
      const existing = await agents.read<SandboxBindingDoc>(pk, 'binding');
      if (existing === undefined || existing.doc.did === did) return { ok: true };
      // A binding left behind by a delete that failed after removing the agent: the agent document is the authority,
      // so a binding to a DID that is gone, or bound to another sandbox, is taken over.
      const named = await readAgent(existing.doc.did);
      if (named !== undefined && named.doc.sandboxId === caller.sandboxId) return { ok: false };
      try {
        const { etag } = await agents.replace(pk, { id: 'binding', sandboxId: caller.sandboxId, did } satisfies SandboxBindingDoc, { ifMatch: existing.etag });
        return { ok: true, etag };
      } catch (e2) {
        if (isKarsError(e2) && (e2.code === 'STORE_PRECONDITION_FAILED' || e2.code === 'STORE_NOT_FOUND')) return { ok: false };
        throw e2;
      }
    }
  }

  return {
    async register(caller, input, authorization) {
      const route = 'mesh/v1/agents';
      const limited = await admit(caller, route);
      if (limited) return limited;
      if (!decodeBase64UrlStrict(input.public_key, 32)) return refuse('MESH_PREKEY_INVALID', 'public_key must be 32 bytes of base64url');
      const existing = await readAgent(input.did);
      if (existing) {
        if (!boundToCaller(existing.doc, caller)) {
          logger.warn('mesh.binding_refused', { route, sandboxId: caller.sandboxId, reason: 'did-bound-elsewhere' });
          return forbidden();
        }
        // Once an Ed25519 key is bound, a present header must verify under it (before, nothing can verify it: the
        // 4.x client registers its X25519 key, and the sandbox binding is the authority).
        if (authorization && existing.doc.identityKeyEd) {
          const v = await verifyHeader(authorization, input.did, decodeBase64UrlStrict(existing.doc.identityKeyEd, 32), route, caller);
          if (!v.ok) return v.outcome;
        }
        if (existing.doc.deletingAtMs !== undefined) return refuse('STORE_CONFLICT', 'agent is being deleted; retry the delete');
        return refuse('STORE_CONFLICT', 'agent already registered');
      }
      let createdBinding: string | undefined;
      if (on('sandbox-binding')) {
        const bound = await bindSandbox(caller, input.did);
        if (!bound.ok) {
          logger.warn('mesh.binding_refused', { route, sandboxId: caller.sandboxId, reason: 'sandbox-bound-to-other-did' });
          return forbidden();
        }
        createdBinding = bound.etag;
      }
      const nowMs = clock.nowMs();
      const doc: AgentDoc = {
        id: AGENT_DOC_ID, did: input.did, sandboxId: caller.sandboxId, publicKey: input.public_key,
        capabilities: [...new Set(input.capabilities)], metadata: input.metadata, registeredAtMs: nowMs, lastSeenMs: nowMs,
      };
      try {
        await agents.create(input.did, doc);
      } catch (e) {
        if (!(isKarsError(e) && e.code === 'STORE_CONFLICT')) throw e;
        const raced = await readAgent(input.did);
        if (raced && boundToCaller(raced.doc, caller)) return refuse('STORE_CONFLICT', 'agent already registered');
        // Another sandbox won the DID: give back the sandbox binding this call made, so the sandbox can register another.
        if (createdBinding) await agents.delete(sandboxPartition(caller.sandboxId), 'binding', { ifMatch: createdBinding }).catch(() => undefined);
        return forbidden();
      }
      await writeCapabilities(doc);
      logger.info('mesh.registered', { route, sandboxId: caller.sandboxId });
      return answer(201, { did: input.did, status: 'registered' });
    },

    async getAgent(caller, did, authorization) {
      const limited = await admit(caller, 'mesh/v1/agents/{did}');
      if (limited) return limited;
      const denied = await verifyOptionalCaller(authorization, 'mesh/v1/agents/{did}', caller);
      if (denied) return denied;
      const agent = await readLiveAgent(did);
      if (!agent) return refuse('NOT_FOUND', 'agent not found');
      const a = agent.doc;
      return answer(200, {
        did: a.did, capabilities: a.capabilities, metadata: a.metadata,
        registered_at: new Date(a.registeredAtMs).toISOString(), last_seen: new Date(a.lastSeenMs).toISOString(),
        reputation_score: DEFAULT_REPUTATION,
      });
    },

    async deleteAgent(caller, did, authorization) {
      const route = 'mesh/v1/agents/{did}';
      const limited = await admit(caller, route);
      if (limited) return limited;
      const agent = await readAgent(did);
      if (!agent) return refuse('NOT_FOUND', 'agent not found');
      if (!boundToCaller(agent.doc, caller)) {
        logger.warn('mesh.binding_refused', { route, sandboxId: caller.sandboxId, reason: 'did-bound-elsewhere' });
        return forbidden();
      }
      if (agent.doc.identityKeyEd || authorization) {
        const key = agent.doc.identityKeyEd ? decodeBase64UrlStrict(agent.doc.identityKeyEd, 32) : undefined;
        const v = await verifyHeader(authorization, did, key, route, caller);
        if (!v.ok) return v.outcome;
      }
      // Order (T4-S): first the agent document becomes a tombstone (gone for every reader, the DID still claimed by
      // this sandbox), then the capability entries and the sandbox binding, and the document last. A failure at any
      // step leaves a state the same call retried finishes, and never a binding without its agent or a DID free for
      // another sandbox while this sandbox's binding still names it.
      let etag = agent.etag;
      if (agent.doc.deletingAtMs === undefined) {
        try {
          ({ etag } = await agents.replace(did, { ...agent.doc, deletingAtMs: clock.nowMs() }, { ifMatch: agent.etag }));
        } catch (e) {
          if (isKarsError(e) && e.code === 'STORE_PRECONDITION_FAILED') return refuse('MESH_CONTENDED', 'registry busy; retry');
          throw e;
        }
      }
      await Promise.all(agent.doc.capabilities.map((cap) => agents.delete(capabilityPartition(cap), sha256Hex(did))));
      const binding = await agents.read<SandboxBindingDoc>(sandboxPartition(agent.doc.sandboxId), 'binding');
      if (binding?.doc.did === did) await agents.delete(sandboxPartition(agent.doc.sandboxId), 'binding', { ifMatch: binding.etag });
      await agents.delete(did, AGENT_DOC_ID, { ifMatch: etag });
      logger.info('mesh.deregistered', { route, sandboxId: caller.sandboxId });
      return answer(204, null);
    },

    async uploadPrekeys(caller, did, upload, authorization) {
      const route = 'mesh/v1/agents/{did}/prekeys';
      const limited = await admit(caller, route);
      if (limited) return limited;
      const checked = checkPrekeyUpload(upload, on('prekey-signature'));
      for (let attempt = 0; attempt < maxCas; attempt += 1) {
        const agent = await readLiveAgent(did);
        if (!agent) return refuse('NOT_FOUND', 'agent not found');
        if (!boundToCaller(agent.doc, caller)) {
          logger.warn('mesh.binding_refused', { route, sandboxId: caller.sandboxId, reason: 'did-bound-elsewhere' });
          return forbidden();
        }
        // The Ed25519 key the header must verify under: the bound one, or (first upload) the uploaded one.
        const bound = agent.doc.identityKeyEd;
        const key = decodeBase64UrlStrict(bound ?? upload.identity_key_ed, 32);
        if (attempt === 0) {
          const v = await verifyHeader(authorization, did, key, route, caller);
          if (!v.ok) return v.outcome;
        }
        if (!checked.ok) {
          logger.warn('mesh.prekeys_refused', { route, sandboxId: caller.sandboxId, reason: checked.code });
          return refuse('MESH_PREKEY_INVALID', 'invalid prekey bundle');
        }
        if (bound !== undefined && bound !== upload.identity_key_ed) {
          logger.warn('mesh.prekeys_refused', { route, sandboxId: caller.sandboxId, reason: 'identity-key-changed' });
          return refuse('MESH_PREKEY_INVALID', 'invalid prekey bundle');
        }
        // The registered key must be one of the bundle's identity keys (X25519 for the 4.x client, Ed25519 per spec).
        if (agent.doc.publicKey !== upload.identity_key && agent.doc.publicKey !== upload.identity_key_ed) {
          logger.warn('mesh.prekeys_refused', { route, sandboxId: caller.sandboxId, reason: 'identity-key-mismatch' });
          return refuse('MESH_PREKEY_INVALID', 'invalid prekey bundle');
        }
        const next: AgentDoc = { ...agent.doc, identityKeyEd: upload.identity_key_ed, bundle: checked.value.bundle, lastSeenMs: clock.nowMs() };
        try {
          await agents.replace(did, next, { ifMatch: agent.etag });
        } catch (e) {
          if (isKarsError(e) && e.code === 'STORE_PRECONDITION_FAILED') continue;
          throw e;
        }
        logger.info('mesh.prekeys_uploaded', { route, sandboxId: caller.sandboxId, count: checked.value.bundle.oneTimePreKeys.length });
        return answer(200, { did, otk_count: checked.value.bundle.oneTimePreKeys.length });
      }
      return refuse('MESH_CONTENDED', 'registry busy; retry');
    },

    async fetchPrekeys(caller, did, authorization) {
      const route = 'mesh/v1/agents/{did}/prekeys';
      const limited = await admit(caller, route);
      if (limited) return limited;
      const denied = await verifyOptionalCaller(authorization, route, caller);
      if (denied) return denied;
      for (let attempt = 0; attempt < maxCas; attempt += 1) {
        const agent = await readLiveAgent(did);
        const bundle = agent?.doc.bundle;
        if (!agent || !bundle || !agent.doc.identityKeyEd) return refuse('NOT_FOUND', 'prekey bundle not found');
        const [otk, ...rest] = bundle.oneTimePreKeys;
        const body = {
          identity_key: bundle.identityKey,
          identity_key_ed: agent.doc.identityKeyEd,
          signed_pre_key: { key_id: bundle.signedPreKey.keyId, public_key: bundle.signedPreKey.publicKey, signature: bundle.signedPreKey.signature },
          one_time_pre_key: otk === undefined ? null : { key_id: otk.keyId, public_key: otk.publicKey },
        };
        if (otk === undefined) return answer(200, body);
        const next: AgentDoc = { ...agent.doc, bundle: { ...bundle, oneTimePreKeys: rest } };
        try {
          // The pop is the write that wins the document's current version: nobody else can hand out `otk` again.
          if (on('opk-cas')) await agents.replace(did, next, { ifMatch: agent.etag });
          else await agents.upsert(did, next);
        } catch (e) {
          if (isKarsError(e) && e.code === 'STORE_PRECONDITION_FAILED') {
            await deps.sleep(Math.min(50, 2 * (attempt + 1)));
            continue;
          }
          throw e;
        }
        return answer(200, body);
      }
      logger.warn('mesh.prekeys_contended', { route, sandboxId: caller.sandboxId, count: maxCas });
      return refuse('MESH_CONTENDED', 'registry busy; retry');
    },

    async discover(caller, capability, limit, authorization) {
      const limited = await admit(caller, 'mesh/v1/discover');
      if (limited) return limited;
      const denied = await verifyOptionalCaller(authorization, 'mesh/v1/discover', caller);
      if (denied) return denied;
      const page = await agents.query<CapabilityEntryDoc>(capabilityPartition(capability), { top: limit }, { pageSize: limit });
      return answer(200, {
        results: page.items.map(({ doc }) => ({
          did: doc.did, capabilities: doc.capabilities, reputation_score: DEFAULT_REPUTATION, last_seen: new Date(doc.lastSeenMs).toISOString(),
        })),
      });
    },

    async sandboxOf(did) {
      return (await readLiveAgent(did))?.doc.sandboxId;
    },
  };
}

