// The router's `/agt/registry/…` for its agent (ARCHITECTURE §4): the AGT RegistryClient's calls (AGENTMESH-WIRE-1.0
// §11) forwarded to the Functions registry with the router's own token. T4-S additions: only the registry paths the
// client uses; registration, prekey upload and deletion only for the bound DID (the first successful registration
// binds it); an Ed25519-Timestamp header only in the bound DID's name; the sandbox key published in the record's
// metadata by the router, never by the agent.
import type { KarsErrorCode } from '../../errors';
import type { Logger } from '../../ports/logger.port';
import type { MeshUpstream, UpstreamAnswer } from '../../ports/mesh-upstream.port';
import { encodeBase64Url } from '../registry/base64url';
import { BRIDGE_DID_RE } from './agent-frames';
import { bridgeOn, type BridgeMitigation } from './bridge-switches';
import type { DidBinding } from './did-binding';
import type { SandboxSigner } from './router-countersignature';
import { ROUTER_KEY_METADATA, ROUTER_SANDBOX_METADATA } from './registry-router-keys';

export interface RegistryCall {
  readonly method: string;
  /** The path below `/agt/registry/`, still percent-encoded. */
  readonly path: string;
  readonly query: string;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  /** The parsed JSON body (the router's body reader checked type, size and syntax) and its bytes. */
  readonly json?: unknown;
  readonly bytes?: Uint8Array;
}

export type RegistryAnswer =
  | { readonly kind: 'upstream'; readonly answer: UpstreamAnswer }
  | { readonly kind: 'local'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'refused'; readonly code: KarsErrorCode; readonly message: string };

export interface RegistryForwardDeps {
  upstream: MeshUpstream;
  binding: DidBinding;
  signer: SandboxSigner;
  logger: Logger;
}

type Route =
  | { name: 'health' }
  | { name: 'agents' }
  | { name: 'agent'; did: string }
  | { name: 'prekeys'; did: string }
  | { name: 'discover' };

const METHODS: Record<Route['name'], readonly string[]> = {
  health: ['GET'], agents: ['POST'], agent: ['GET', 'DELETE'], prekeys: ['GET', 'PUT'], discover: ['GET'],
};

function matchRegistryPath(path: string): Route | undefined {
  if (path === 'health') return { name: 'health' };
  if (path === 'v1/agents') return { name: 'agents' };
  if (path === 'v1/discover') return { name: 'discover' };
  const m = /^v1\/agents\/([^/]+)(\/prekeys)?$/.exec(path);
  if (!m) return undefined;
  let did: string;
  try {
    did = decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
  if (!BRIDGE_DID_RE.test(did)) return undefined;
  return m[2] ? { name: 'prekeys', did } : { name: 'agent', did };
}

/** The DID an `Ed25519-Timestamp <did> <ts> <sig>` header names (wire spec §13.1), if it has that form. */
const headerDid = (authorization: string | undefined): string | undefined => /^Ed25519-Timestamp (\S+) \S+ \S+$/.exec(authorization ?? '')?.[1];

export function createRegistryForward(deps: RegistryForwardDeps, options: { _disable?: readonly BridgeMitigation[] } = {}) {
  const on = (m: BridgeMitigation): boolean => bridgeOn(options._disable, m);
  const mismatch = (what: string): RegistryAnswer => {
    deps.logger.warn('mesh.bridge_refused', { route: 'agt/registry', code: 'MESH_DID_MISMATCH', reason: what, sandboxId: deps.signer.sandboxId });
    return { kind: 'refused', code: 'MESH_DID_MISMATCH', message: 'this router acts for another agent DID' };
  };
  // The path forwarded is rebuilt from the matched route (the DID re-encoded), never the agent's spelling of it.
  const canonicalPath = (route: Route): string =>
    route.name === 'agent' ? `v1/agents/${encodeURIComponent(route.did)}`
      : route.name === 'prekeys' ? `v1/agents/${encodeURIComponent(route.did)}/prekeys`
        : route.name === 'agents' ? 'v1/agents' : route.name === 'discover' ? 'v1/discover' : 'health';
  const forward = async (call: RegistryCall & { route: Route }, body?: Uint8Array): Promise<RegistryAnswer> => ({
    kind: 'upstream',
    answer: await deps.upstream.registry({
      method: call.method, path: canonicalPath(call.route), query: call.route.name === 'discover' ? call.query : '',
      ...(call.authorization ? { authorization: call.authorization } : {}),
      ...(call.contentType ? { contentType: call.contentType } : {}),
      ...(body ? { body } : {}),
    }),
  });

  return async function handleRegistryCall(call: RegistryCall): Promise<RegistryAnswer> {
    const route = matchRegistryPath(call.path);
    if (!route) return { kind: 'refused', code: 'NOT_FOUND', message: 'no such registry route' };
    if (!METHODS[route.name].includes(call.method)) return { kind: 'refused', code: 'METHOD_NOT_ALLOWED', message: 'method not allowed' };
    if (route.name === 'health') return { kind: 'local', status: 200, body: { status: 'ok' } };
    const bound = deps.binding.current();
    const signer = headerDid(call.authorization);
    if (on('did-binding') && signer !== undefined && bound !== undefined && signer !== bound) return mismatch('header-did');

    if (route.name === 'agents') {
      const input = call.json as { did?: unknown; metadata?: unknown } | undefined;
      if (typeof input !== 'object' || input === null || typeof input.did !== 'string') return { kind: 'refused', code: 'INPUT_INVALID', message: 'did is required' };
      const metadata = input.metadata ?? {};
      if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return { kind: 'refused', code: 'INPUT_INVALID', message: 'metadata must be an object' };
      if (Object.hasOwn(metadata, ROUTER_KEY_METADATA) || Object.hasOwn(metadata, ROUTER_SANDBOX_METADATA)) {
        return { kind: 'refused', code: 'INPUT_INVALID', message: 'metadata keys kars_router_key and kars_sandbox are the router\'s' };
      }
      if (on('did-binding') && !deps.binding.admits(input.did)) return mismatch('register');
      const body = {
        ...input,
        metadata: { ...metadata, [ROUTER_KEY_METADATA]: encodeBase64Url(deps.signer.publicKey), [ROUTER_SANDBOX_METADATA]: deps.signer.sandboxId },
      };
      const answered = await forward({ ...call, route, contentType: 'application/json' }, new TextEncoder().encode(JSON.stringify(body)));
      // 201 registered, 409 already registered by this sandbox (the registry answers 403 for another's).
      const status = answered.kind === 'upstream' ? answered.answer.status : 0;
      if (status === 200 || status === 201 || status === 409) {
        const outcome = await deps.binding.bind(input.did);
        if (outcome === 'mismatch' && on('did-binding')) return mismatch('register-race');
        if (outcome === 'bound') deps.logger.info('mesh.bridge_bound', { sandboxId: deps.signer.sandboxId });
      }
      return answered;
    }
    if ((route.name === 'prekeys' && call.method === 'PUT') || (route.name === 'agent' && call.method === 'DELETE')) {
      if (on('did-binding') && (bound === undefined || route.did !== bound)) return mismatch(route.name === 'prekeys' ? 'prekeys' : 'delete');
      return forward({ ...call, route }, call.bytes);
    }
    return forward({ ...call, route });
  };
}

export type RegistryForward = ReturnType<typeof createRegistryForward>;
