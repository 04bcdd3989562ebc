// Local Entra ID + AKS OIDC issuer + App Service managed-identity endpoint, so the real @azure/identity credentials
// (WorkloadIdentityCredential, ClientAssertionCredential, ManagedIdentityCredential) run their real code paths
// locally. Serves threat row "Azure tokens: workload-identity scoped, lifetime <= 1 hour".
import { generateKeyPairSync, randomBytes, randomUUID, timingSafeEqual, type KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { silentLogger, type Logger } from '../../../core/ports/logger.port';
import { ensureDevTls } from '../tls/dev-tls';
import {
  MAX_ACCESS_TOKEN_LIFETIME_SEC, accessTokenIssuer, audienceVariants, createKeyedAccessTokenVerifier, type AccessTokenVerifier,
} from './access-token-verifier';
import { hasAdminKey, MIN_ADMIN_KEY_LENGTH } from '../admin-key';
import { publicJwk, signJwt, signingKeyFrom, verifyJwt, type JwtRejection } from './jwt';
import { closeServer, listen, logRequest, pathSegments, queryOf, readBody, sendJson } from './local-http';
import {
  DEFAULT_SERVICE_ACCOUNT_SUBJECT, TOKEN_EXCHANGE_AUDIENCE, createServiceAccountIssuer, writeTokenFile,
  type MintServiceAccountTokenOptions,
} from './service-account-issuer';

export const LOCAL_TENANT_ID = 'c0ffee00-0000-4000-8000-00000000ca75';
export const LOCAL_CLIENT_ID = '5a1d0c1e-0000-4000-8000-000000000001';
export const LOCAL_MANAGED_IDENTITY_CLIENT_ID = '5a1d0c1e-0000-4000-8000-000000000002';
/** Object id of the service principal of a workload-identity app, and of a managed identity, on this server. */
export const workloadPrincipalIdOf = (clientId: string): string => `${clientId}-sp`;
export const managedIdentityPrincipalIdOf = (clientId: string): string => `${clientId}-mi`;
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MAX_FORM_BYTES = 64 * 1024;
const MAX_ASSERTION_LIFETIME_SEC = 24 * 3600;

export interface StartIdentityServerOptions {
  /** HTTPS port for the authority host; 0 (default) picks a free one. */
  port?: number;
  /** Loopback http port for the managed-identity endpoint; 0 (default) picks a free one. */
  managedIdentityPort?: number;
  tlsDir?: string;
  /** Access token lifetime; at most 3600 (T3-E: tokens live at most one hour), default 3600. */
  tokenLifetimeSec?: number;
  tenantId?: string;
  clientId?: string;
  managedIdentityClientId?: string;
  /** The federated credential subject the app trusts. */
  serviceAccountSubject?: string;
  /** Where the projected service-account token is written; default: a fresh 0700 temp dir. */
  federatedTokenFile?: string;
  /** Lifetime of the projected token in the file; it is re-minted at 80 % of it, like the kubelet does. */
  federatedTokenLifetimeSec?: number;
  /** The App Service-style IDENTITY_HEADER secret; default random. */
  identityHeader?: string;
  /**
   * App role assignments (Entra "app roles"): a token minted for `resource` to `principalId` carries these `roles`,
   * as Entra puts the roles a principal holds on an API into the access tokens issued for it.
   */
  appRoleAssignments?: ReadonlyArray<{ resource: string; principalId: string; roles: readonly string[] }>;
  /**
   * Serves `PUT|DELETE /admin/workload-identities/{name}` behind this bearer key (../admin-key.ts): the local
   * stand-in for creating a user-assigned identity with its federated credential (T1-E). Omitted: no such routes.
   */
  adminKey?: string;
  logger?: Logger;
}

/** A workload identity with one federated credential, as `az identity create` + `federated-credential create`. */
export interface WorkloadIdentity {
  name: string;
  clientId: string;
  principalId: string;
  /** The only service-account subject whose token this identity accepts. */
  subject: string;
  /** Where the stand-in keeps a fresh service-account token for `subject` (the kubelet's projected volume in AKS). */
  federatedTokenFile: string;
}

export interface IdentityServer {
  /** https://127.0.0.1:<port>: AZURE_AUTHORITY_HOST. */
  authorityHost: string;
  tenantId: string;
  clientId: string;
  managedIdentityClientId: string;
  /** AZURE_FEDERATED_TOKEN_FILE, kept fresh while the server runs. */
  federatedTokenFile: string;
  serviceAccountIssuer: string;
  serviceAccountSubject: string;
  /** IDENTITY_ENDPOINT (loopback http, as on App Service). */
  identityEndpoint: string;
  /** IDENTITY_HEADER: a secret, like on App Service; keep it out of logs. */
  identityHeader: string;
  jwksUri: string;
  caCertPem: string;
  caCertFile: string;
  tokenLifetimeSec: number;
  /** Object ids of the two principals this server issues tokens to (workload identity app, managed identity). */
  workloadPrincipalId: string;
  managedIdentityPrincipalId: string;
  verifyAccessToken: AccessTokenVerifier;
  /** Signs a service-account token with the issuer key (for tests: wrong subject/audience, expired, ...). */
  mintServiceAccountToken(options?: MintServiceAccountTokenOptions): string;
  /** Creates (or returns, for a known name) a workload identity federated with `subject` only. */
  registerWorkloadIdentity(name: string, subject: string): Promise<WorkloadIdentity>;
  /** Deletes a workload identity and its token file; true when it existed. */
  removeWorkloadIdentity(name: string): Promise<boolean>;
  /** Counters for tests: how many access tokens were issued per flow. */
  stats(): { workloadTokensIssued: number; managedIdentityTokensIssued: number; rejectedAssertions: number };
  stop(): Promise<void>;
}

interface TokenError { status: number; error: string; aadsts: number; description: string; reason: string }

export async function startIdentityServer(options: StartIdentityServerOptions = {}): Promise<IdentityServer> {
  const tokenLifetimeSec = options.tokenLifetimeSec ?? MAX_ACCESS_TOKEN_LIFETIME_SEC;
  if (!Number.isInteger(tokenLifetimeSec) || tokenLifetimeSec < 1 || tokenLifetimeSec > MAX_ACCESS_TOKEN_LIFETIME_SEC) {
    throw new RangeError(`"tokenLifetimeSec" expected an integer in 1..${MAX_ACCESS_TOKEN_LIFETIME_SEC}`);
  }
  const logger = options.logger ?? silentLogger;
  const tenantId = options.tenantId ?? LOCAL_TENANT_ID;
  const clientId = options.clientId ?? LOCAL_CLIENT_ID;
  const managedIdentityClientId = options.managedIdentityClientId ?? LOCAL_MANAGED_IDENTITY_CLIENT_ID;
  const serviceAccountSubject = options.serviceAccountSubject ?? DEFAULT_SERVICE_ACCOUNT_SUBJECT;
  const identityHeader = options.identityHeader ?? randomBytes(24).toString('base64url');
  const tls = await ensureDevTls(options.tlsDir ? { dir: options.tlsDir } : {});

  const signing = signingKeyFrom(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  const keyFor = (kid: string): KeyObject | undefined => (kid === signing.kid ? signing.publicKey : undefined);
  const counters = { workloadTokensIssued: 0, managedIdentityTokensIssued: 0, rejectedAssertions: 0 };

  const httpsServer = https.createServer({ cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.2' });
  const miServer = http.createServer();
  const port = await listen(httpsServer, options.port ?? 0);
  const authorityHost = `https://127.0.0.1:${port}`;
  const issuer = accessTokenIssuer(authorityHost, tenantId);
  const saIssuer = createServiceAccountIssuer(`${authorityHost}/oidc`, serviceAccountSubject);
  const verifyAccessToken = createKeyedAccessTokenVerifier(issuer, keyFor);

  if (options.adminKey !== undefined && options.adminKey.length < MIN_ADMIN_KEY_LENGTH) throw new RangeError('"adminKey" is too short');
  // Workload identity apps by client id, each with its one federated subject; the stack's own app is the first.
  const workloadApps = new Map<string, { subject: string }>([[clientId, { subject: serviceAccountSubject }]]);
  const registered = new Map<string, WorkloadIdentity>();
  const principalIdOf = (appId: string): string => (appId === managedIdentityClientId ? managedIdentityPrincipalIdOf(appId) : workloadPrincipalIdOf(appId));
  const mintAccessToken = (resource: string, appId: string): { token: string; expSec: number } => {
    const iat = Math.floor(Date.now() / 1000);
    const expSec = iat + tokenLifetimeSec;
    const oid = principalIdOf(appId);
    const roles = [...new Set((options.appRoleAssignments ?? [])
      .filter((a) => a.principalId === oid && audienceVariants(a.resource).includes(resource))
      .flatMap((a) => a.roles))];
    const token = signJwt({
      aud: resource, iss: issuer, iat, nbf: iat, exp: expSec,
      appid: appId, azp: appId, oid, sub: oid, tid: tenantId, idtyp: 'app', ver: '2.0', uti: randomUUID(),
      ...(roles.length > 0 ? { roles } : {}),
    }, signing);
    return { token, expSec };
  };

  httpsServer.on('request', (req, res) => {
    let route = 'unmatched';
    logRequest(logger, 'identity', req, res, () => route);
    const seg = pathSegments(req.url);
    if (!seg) return sendJson(res, 400, { error: 'invalid_request' });
    const [t, a, b, c, d] = seg;
    if (req.method === 'GET' && seg.length === 4 && a === 'v2.0' && b === '.well-known' && c === 'openid-configuration') {
      route = '/{tenant}/v2.0/.well-known/openid-configuration';
      if (t !== tenantId) return sendJson(res, 400, aadError(tenantNotFound()));
      return sendJson(res, 200, openIdConfiguration(authorityHost, tenantId, issuer));
    }
    if (req.method === 'GET' && seg.length === 4 && a === 'discovery' && b === 'v2.0' && c === 'keys') {
      route = '/{tenant}/discovery/v2.0/keys';
      if (t !== tenantId) return sendJson(res, 400, aadError(tenantNotFound()));
      return sendJson(res, 200, { keys: [publicJwk(signing)] });
    }
    if (req.method === 'POST' && seg.length === 4 && a === 'oauth2' && b === 'v2.0' && c === 'token') {
      route = '/{tenant}/oauth2/v2.0/token';
      return void handleToken(req, t ?? '').then(
        (r) => {
          if ('token' in r) return sendJson(res, 200, r.token);
          counters.rejectedAssertions++;
          logger.warn('identity.token_rejected', { reason: r.reason, status: r.status });
          sendJson(res, r.status, aadError(r));
        },
        () => sendJson(res, 500, { error: 'server_error' }),
      );
    }
    if (t === 'admin' && a === 'workload-identities' && seg.length === 3 && options.adminKey !== undefined) {
      route = '/admin/workload-identities/{name}';
      if (!hasAdminKey(req, options.adminKey)) return sendJson(res, 401, { code: 'AUTH_REQUIRED' });
      return void handleAdmin(req, b ?? '').then(
        (r) => (r.status === 204 ? void res.writeHead(204).end() : sendJson(res, r.status, r.body)),
        () => sendJson(res, 500, { code: 'INTERNAL' }),
      );
    }
    if (req.method === 'GET' && t === 'oidc' && a === '.well-known' && b === 'openid-configuration' && seg.length === 3) {
      route = '/oidc/.well-known/openid-configuration';
      return sendJson(res, 200, {
        issuer: saIssuer.issuer, jwks_uri: `${saIssuer.issuer}/openid/v1/jwks`, response_types_supported: ['id_token'],
        subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (req.method === 'GET' && t === 'oidc' && a === 'openid' && b === 'v1' && c === 'jwks' && d === undefined) {
      route = '/oidc/openid/v1/jwks';
      return sendJson(res, 200, saIssuer.jwks());
    }
    sendJson(res, 404, { error: 'not_found' });
  });

  async function handleToken(req: http.IncomingMessage, tenant: string): Promise<{ token: object } | TokenError> {
    if (tenant !== tenantId) return tenantNotFound();
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return tokenError(400, 'invalid_request', 900144, 'The request body must be form-encoded.', 'content_type');
    }
    const raw = await readBody(req, MAX_FORM_BYTES);
    if (!raw) return tokenError(413, 'invalid_request', 900144, 'The request body is too large.', 'body_too_large');
    const form = new URLSearchParams(raw.toString('utf8'));
    if (form.get('grant_type') !== 'client_credentials') {
      return tokenError(400, 'unsupported_grant_type', 70003, 'Only client_credentials is supported locally.', 'grant_type');
    }
    const requestedClientId = form.get('client_id') ?? '';
    const app = workloadApps.get(requestedClientId);
    if (!app) {
      return tokenError(400, 'unauthorized_client', 700016, 'Application was not found in the directory.', 'client_id');
    }
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE || !form.get('client_assertion')) {
      return tokenError(401, 'invalid_client', 7000218, 'The request body must contain client_assertion.', 'no_assertion');
    }
    const checked = verifyJwt(form.get('client_assertion')!, (kid) => (kid === saIssuer.key.kid ? saIssuer.key.publicKey : undefined), {
      issuer: saIssuer.issuer,
      audiences: [TOKEN_EXCHANGE_AUDIENCE],
      nowSec: Math.floor(Date.now() / 1000),
      maxLifetimeSec: MAX_ASSERTION_LIFETIME_SEC,
    });
    if (!checked.ok) return assertionError(checked.code);
    // T1-E: each identity trusts exactly one service account; another sandbox's router token is refused here.
    if (checked.value.sub !== app.subject) {
      return tokenError(401, 'invalid_client', 700213, 'No matching federated identity record found for presented assertion subject.', 'subject');
    }
    const resource = resourceOf(form.get('scope') ?? '');
    if (!resource) return tokenError(400, 'invalid_scope', 1002012, 'The provided value for scope is not valid; use <resource>/.default.', 'scope');
    const { token } = mintAccessToken(resource, requestedClientId);
    counters.workloadTokensIssued++;
    return { token: { token_type: 'Bearer', expires_in: tokenLifetimeSec, ext_expires_in: tokenLifetimeSec, access_token: token } };
  }

  miServer.on('request', (req, res) => {
    let route = 'unmatched';
    logRequest(logger, 'identity.mi', req, res, () => route);
    const seg = pathSegments(req.url);
    if (req.method !== 'GET' || !seg || seg.join('/') !== 'msi/token') return sendJson(res, 404, { error: 'not_found' });
    route = '/msi/token';
    const presented = Buffer.from(String(req.headers['x-identity-header'] ?? ''));
    const expected = Buffer.from(identityHeader);
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      logger.warn('identity.mi_rejected', { reason: 'identity_header' });
      return sendJson(res, 401, { statusCode: 401, message: 'Missing or invalid X-IDENTITY-HEADER.' });
    }
    const q = queryOf(req.url);
    if (q.get('api-version') !== '2019-08-01') return sendJson(res, 400, { statusCode: 400, message: 'Unsupported api-version.' });
    const requestedClient = q.get('client_id');
    if ((requestedClient && requestedClient !== managedIdentityClientId) || q.has('mi_res_id') || q.has('principal_id')) {
      return sendJson(res, 400, { statusCode: 400, message: 'No managed identity matches the requested id.' });
    }
    const resource = resourceOf(`${q.get('resource') ?? ''}/.default`);
    if (!resource) return sendJson(res, 400, { statusCode: 400, message: 'Invalid resource.' });
    const { token, expSec } = mintAccessToken(resource, managedIdentityClientId);
    counters.managedIdentityTokensIssued++;
    sendJson(res, 200, {
      access_token: token, expires_on: String(expSec), resource, token_type: 'Bearer', client_id: managedIdentityClientId,
    });
  });
  const miPort = await listen(miServer, options.managedIdentityPort ?? 0);

  let tokenDir: string | undefined;
  const federatedTokenFile = options.federatedTokenFile ??
    path.join((tokenDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kars-identity-'))), 'azure-identity-token');
  const fileLifetimeSec = options.federatedTokenLifetimeSec ?? 3600;
  await writeTokenFile(federatedTokenFile, saIssuer.mint({ lifetimeSec: fileLifetimeSec }));
  const rotation = setInterval(() => {
    writeTokenFile(federatedTokenFile, saIssuer.mint({ lifetimeSec: fileLifetimeSec }))
      .catch(() => logger.error('identity.token_file_rotation_failed', {}));
    for (const w of registered.values()) {
      writeTokenFile(w.federatedTokenFile, saIssuer.mint({ subject: w.subject, lifetimeSec: fileLifetimeSec }))
        .catch(() => logger.error('identity.token_file_rotation_failed', {}));
    }
  }, Math.max(1000, fileLifetimeSec * 800));
  rotation.unref();

  const WORKLOAD_NAME = /^[a-z0-9](?:[a-z0-9-]{0,126}[a-z0-9])?$/;
  const SUBJECT = /^system:serviceaccount:[a-z0-9-]{1,63}:[a-z0-9.-]{1,253}$/;
  const workloadTokenDir = path.join(path.dirname(federatedTokenFile), 'workloads');
  async function registerWorkloadIdentity(name: string, subject: string): Promise<WorkloadIdentity> {
    if (!WORKLOAD_NAME.test(name)) throw new TypeError('workload identity "name" is invalid');
    if (!SUBJECT.test(subject)) throw new TypeError('"subject" must be system:serviceaccount:<namespace>:<name>');
    const existing = registered.get(name);
    if (existing) {
      if (existing.subject !== subject) throw new TypeError('that workload identity is federated with another subject');
      return { ...existing };
    }
    const appId = randomUUID();
    const identity: WorkloadIdentity = {
      name, clientId: appId, principalId: principalIdOf(appId), subject,
      federatedTokenFile: path.join(workloadTokenDir, name, 'azure-identity-token'),
    };
    await writeTokenFile(identity.federatedTokenFile, saIssuer.mint({ subject, lifetimeSec: fileLifetimeSec }));
    registered.set(name, identity);
    workloadApps.set(appId, { subject });
    logger.info('identity.workload_created', { detail: `name=${name} client=${appId}` });
    return { ...identity };
  }
  async function removeWorkloadIdentity(name: string): Promise<boolean> {
    const existing = registered.get(name);
    if (!existing) return false;
    registered.delete(name);
    workloadApps.delete(existing.clientId);
    await fs.rm(path.dirname(existing.federatedTokenFile), { recursive: true, force: true });
    logger.info('identity.workload_deleted', { detail: `name=${name}` });
    return true;
  }
  async function handleAdmin(req: http.IncomingMessage, name: string): Promise<{ status: number; body: unknown }> {
    try {
      if (req.method === 'PUT') {
        const raw = await readBody(req, MAX_FORM_BYTES);
        const body = raw ? JSON.parse(raw.toString('utf8')) as { subject?: unknown } : {};
        return { status: 200, body: await registerWorkloadIdentity(name, String(body.subject ?? '')) };
      }
      if (req.method === 'DELETE') {
        await removeWorkloadIdentity(name);
        return { status: 204, body: null };
      }
      return { status: 405, body: { code: 'METHOD_NOT_ALLOWED' } };
    } catch (e) {
      return { status: 400, body: { code: 'INPUT_INVALID', message: e instanceof TypeError ? e.message : 'bad request' } };
    }
  }

  return {
    authorityHost, tenantId, clientId, managedIdentityClientId, federatedTokenFile,
    serviceAccountIssuer: saIssuer.issuer, serviceAccountSubject,
    identityEndpoint: `http://127.0.0.1:${miPort}/msi/token`, identityHeader,
    jwksUri: `${authorityHost}/${tenantId}/discovery/v2.0/keys`,
    caCertPem: tls.caCertPem, caCertFile: tls.caCertFile, tokenLifetimeSec,
    workloadPrincipalId: principalIdOf(clientId), managedIdentityPrincipalId: principalIdOf(managedIdentityClientId),
    verifyAccessToken,
    mintServiceAccountToken: (o) => saIssuer.mint(o),
    registerWorkloadIdentity,
    removeWorkloadIdentity,
    stats: () => ({ ...counters }),
    async stop() {
      clearInterval(rotation);
      await Promise.all([closeServer(httpsServer), closeServer(miServer)]);
      if (tokenDir) await fs.rm(tokenDir, { recursive: true, force: true });
    },
  };
}

function openIdConfiguration(authorityHost: string, tenantId: string, issuer: string): object {
  const base = `${authorityHost}/${tenantId}`;
  return {
    issuer,
    token_endpoint: `${base}/oauth2/v2.0/token`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    response_types_supported: ['code', 'id_token', 'token'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    tenant_region_scope: null,
    cloud_instance_name: 'kars.local',
  };
}

/** One `<resource>/.default` scope (OIDC scopes MSAL may add are ignored); the resource becomes `aud`. */
function resourceOf(scopeParam: string): string | undefined {
  const scopes = scopeParam.split(' ').filter((s) => s && !['openid', 'profile', 'offline_access'].includes(s));
  if (scopes.length !== 1 || !scopes[0]!.endsWith('/.default')) return undefined;
  const resource = scopes[0]!.slice(0, -'/.default'.length);
  return /^(https:\/\/[A-Za-z0-9.-]+(:\d+)?(\/[\w.~-]*)*|api:\/\/[\w.~/-]+)$/.test(resource) ? resource : undefined;
}

function tokenError(status: number, error: string, aadsts: number, description: string, reason: string): TokenError {
  return { status, error, aadsts, description, reason };
}

function tenantNotFound(): TokenError {
  return tokenError(400, 'invalid_request', 90002, 'Tenant not found.', 'tenant');
}

/** Maps an assertion check failure to the AADSTS code Entra returns for the same mistake. */
function assertionError(code: JwtRejection): TokenError {
  switch (code) {
    case 'TOKEN_EXPIRED':
    case 'TOKEN_NOT_YET_VALID':
    case 'TOKEN_LIFETIME':
      return tokenError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.', code);
    case 'TOKEN_ISSUER':
      return tokenError(401, 'invalid_client', 700211, 'No matching federated identity record found for presented assertion issuer.', code);
    case 'TOKEN_AUDIENCE':
      return tokenError(401, 'invalid_client', 700212, 'No matching federated identity record found for presented assertion audience.', code);
    default:
      return tokenError(401, 'invalid_client', 50013, 'Assertion failed signature validation.', code);
  }
}

function aadError(e: TokenError): object {
  const trace = randomUUID();
  return {
    error: e.error,
    error_description: `AADSTS${e.aadsts}: ${e.description} Trace ID: ${trace}`,
    error_codes: [e.aadsts],
    timestamp: new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z',
    trace_id: trace,
    correlation_id: randomUUID(),
  };
}
