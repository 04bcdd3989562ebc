// The mesh routes of the single route table: the AgentMesh registry (AGENTMESH-WIRE-1.0 §11, the paths the AGT
// RegistryClient calls, under `mesh/`) and the relay store the routers use (§12). Every route first authenticates the
// calling router by its projected service-account token (header `x-kars-router-token`, audience `kars-mesh`): the
// sandbox it names is who acts. Function keys are not used (authLevel anonymous): the token is the authentication.
import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import type { MeshRegistry } from '../../core/mesh/registry/mesh-registry';
import type { MeshRelay } from '../../core/mesh/relay/mesh-relay';
import { isKarsError } from '../../core/errors';
import { unauthenticated } from '../../core/mesh/mesh-outcome';
import type { Logger } from '../../core/ports/logger.port';
import type { RouterAuthenticator, RouterCaller } from '../../core/ports/router-authenticator.port';
import type { RouteDef } from '../route-def';
import { errorResponse } from '../http/json-response';
import { meshErrorResponse, meshResponse } from './mesh-response';
import { readJsonRequest } from '../http/read-json-request';
import {
  ackSchema, didParamSchema, discoverQuerySchema, fetchPendingSchema, prekeyUploadSchema, registerAgentSchema, relayFrameSchema,
} from './mesh-schemas';

export { ROUTER_TOKEN_HEADER } from '../../core/mesh/router-auth/verify-router-token';
import { ROUTER_TOKEN_HEADER } from '../../core/mesh/router-auth/verify-router-token';
export const REGISTRY_MAX_BODY_BYTES = 32 * 1024;
export const RELAY_MAX_FRAME_BYTES = 256 * 1024;

export interface MeshRouteDeps {
  registry: MeshRegistry;
  relay: MeshRelay;
  authenticator: RouterAuthenticator;
  logger: Logger;
}

type MeshHandler = (req: HttpRequest, caller: RouterCaller) => Promise<HttpResponseInit>;

export function createMeshRoutes(deps: MeshRouteDeps): RouteDef[] {
  const { registry, relay, logger } = deps;

  const authed = (route: string, handle: MeshHandler): HttpHandler => async (req) => {
    try {
      const auth = await deps.authenticator.authenticate(req.headers.get(ROUTER_TOKEN_HEADER) ?? undefined);
      if (!auth.ok) {
        logger.warn('mesh.router_auth_refused', { route, reason: auth.code });
        return auth.code === 'keys-unavailable' ? errorResponse('IDENTITY_UNAVAILABLE', 'identity provider unavailable') : meshResponse(unauthenticated());
      }
      return await handle(req, auth.value);
    } catch (e) {
      return meshErrorResponse(e, logger, route);
    }
  };
  const didOf = (req: HttpRequest): string | undefined => {
    const p = didParamSchema.safeParse({ ...req.params });
    return p.success ? p.data.did : undefined;
  };
  const authorization = (req: HttpRequest): string | null => req.headers.get('authorization');
  const noAgent = (): HttpResponseInit => errorResponse('NOT_FOUND', 'agent not found');

  const agentsRoute = 'mesh/v1/agents';
  const agentRoute = 'mesh/v1/agents/{did}';
  const prekeysRoute = 'mesh/v1/agents/{did}/prekeys';
  return [
    {
      name: 'meshRegisterAgent', methods: ['POST'], route: agentsRoute, authLevel: 'anonymous',
      handler: authed(agentsRoute, async (req, caller) => {
        const input = await readJsonRequest(req, registerAgentSchema, REGISTRY_MAX_BODY_BYTES);
        if (!input.ok) return input.response;
        return meshResponse(await registry.register(caller, input.value, authorization(req)));
      }),
    },
    {
      name: 'meshAgent', methods: ['GET', 'DELETE'], route: agentRoute, authLevel: 'anonymous',
      handler: authed(agentRoute, async (req, caller) => {
        const did = didOf(req);
        if (did === undefined) return noAgent();
        return meshResponse(req.method === 'DELETE'
          ? await registry.deleteAgent(caller, did, authorization(req))
          : await registry.getAgent(caller, did, authorization(req)));
      }),
    },
    {
      name: 'meshPrekeys', methods: ['PUT', 'GET'], route: prekeysRoute, authLevel: 'anonymous',
      handler: authed(prekeysRoute, async (req, caller) => {
        const did = didOf(req);
        if (did === undefined) return noAgent();
        if (req.method === 'GET') return meshResponse(await registry.fetchPrekeys(caller, did, authorization(req)));
        const input = await readJsonRequest(req, prekeyUploadSchema, REGISTRY_MAX_BODY_BYTES);
        if (!input.ok) return input.response;
        return meshResponse(await registry.uploadPrekeys(caller, did, input.value, authorization(req)));
      }),
    },
    {
      name: 'meshDiscover', methods: ['GET'], route: 'mesh/v1/discover', authLevel: 'anonymous',
      handler: authed('mesh/v1/discover', async (req, caller) => {
        const q = discoverQuerySchema.safeParse(Object.fromEntries(req.query.entries()));
        if (!q.success) return errorResponse('INPUT_INVALID', 'capability (1-128 chars) and limit (1-100) expected');
        return meshResponse(await registry.discover(caller, q.data.capability, q.data.limit, authorization(req)));
      }),
    },
    {
      name: 'meshRelayPost', methods: ['POST'], route: 'mesh/relay/frames', authLevel: 'anonymous',
      handler: authed('mesh/relay/frames', async (req, caller) => {
        const input = await readJsonRequest(req, relayFrameSchema, RELAY_MAX_FRAME_BYTES);
        if (!input.ok) return input.response;
        return meshResponse(await relay.post(caller, input.value, input.sizeBytes));
      }),
    },
    {
      name: 'meshRelayPending', methods: ['POST'], route: 'mesh/relay/pending', authLevel: 'anonymous',
      handler: authed('mesh/relay/pending', async (req, caller) => {
        const input = await readJsonRequest(req, fetchPendingSchema, REGISTRY_MAX_BODY_BYTES);
        if (!input.ok) return input.response;
        return meshResponse(await relay.fetchPending(caller, input.value.did, input.value.max));
      }),
    },
    {
      name: 'meshRelayAck', methods: ['POST'], route: 'mesh/relay/ack', authLevel: 'anonymous',
      handler: authed('mesh/relay/ack', async (req, caller) => {
        const input = await readJsonRequest(req, ackSchema, REGISTRY_MAX_BODY_BYTES);
        if (!input.ok) return input.response;
        return meshResponse(await relay.ack(caller, input.value.did, input.value.ids));
      }),
    },
  ];
}

/** The same routes for the static route table: dependencies are built on the first mesh request and reused. */
export function createLazyMeshRoutes(getDeps: () => Promise<MeshRouteDeps>): RouteDef[] {
  let built: Promise<RouteDef[]> | undefined;
  const load = (): Promise<RouteDef[]> => {
    if (built === undefined) {
      const pending = getDeps().then(createMeshRoutes);
      built = pending;
      // A failed bootstrap (a dependency down at start) must not poison later requests.
      pending.catch(() => { if (built === pending) built = undefined; });
    }
    return built;
  };
  const never = (): never => { throw new Error('placeholder dependency called'); };
  const template = createMeshRoutes({
    registry: { register: never, getAgent: never, deleteAgent: never, uploadPrekeys: never, fetchPrekeys: never, discover: never, sandboxOf: never },
    relay: { post: never, fetchPending: never, ack: never },
    authenticator: { authenticate: never },
    logger: { info: never, warn: never, error: never },
  });
  return template.map((route) => ({
    ...route,
    handler: async (req, context) => {
      let real: RouteDef;
      try {
        real = (await load()).find((r) => r.name === route.name)!;
      } catch (e) {
        // Settings missing (KARS_MESH_OIDC_*) or a dependency down at bootstrap: a stable code, no detail.
        const code = isKarsError(e) && e.code === 'CONFIG_INVALID' ? 'CONFIG_INVALID' : 'DEPENDENCY_UNAVAILABLE';
        return errorResponse(code, code === 'CONFIG_INVALID' ? 'mesh routes not configured' : 'dependency unavailable');
      }
      return real.handler(req, context);
    },
  }));
}
