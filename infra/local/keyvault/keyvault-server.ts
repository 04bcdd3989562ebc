// Local Key Vault stand-in (HTTPS): the secrets REST subset that the real @azure/keyvault-secrets SecretClient uses,
// behind Key Vault's bearer challenge, accepting only local-Entra tokens for the vault audience.
import * as https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { silentLogger, type Logger } from '../../../core/ports/logger.port';
import { createRemoteAccessTokenVerifier, type AccessTokenVerifier } from '../identity/access-token-verifier';
import { closeServer, listen, logRequest, pathSegments, queryOf, readBody, sendJson } from '../identity/local-http';
import { ensureDevTls } from '../tls/dev-tls';
import { SecretStore, type DeletedSecret, type SecretVersion, type SetSecretInput, type StoredSecret } from './secret-store';

export const VAULT_RESOURCE = 'https://vault.azure.net';
const NAME_RE = /^[0-9a-zA-Z-]{1,127}$/;
const VERSION_RE = /^[0-9a-fA-F]{32}$/;
const MAX_BODY_BYTES = 64 * 1024;
/** Key Vault's limit for a secret value. */
const MAX_VALUE_BYTES = 25 * 1024;
const PAGE_MAX = 25;

export interface StartKeyVaultServerOptions {
  /** The local identity server's https origin; appears in the bearer challenge. */
  authorityHost: string;
  tenantId: string;
  port?: number;
  tlsDir?: string;
  /** In-process verifier (from startIdentityServer); default: fetch the identity server's JWKS over HTTPS. */
  verifyAccessToken?: AccessTokenVerifier;
  /** Only these app ids (`appid` claim) may use the vault (RBAC stand-in); default: any app of the tenant. */
  allowedClientIds?: readonly string[];
  /** Directory for `keyvault.json`; without it the vault lives in memory only. */
  dataDir?: string;
  /** name → value, written as a first version for names that do not exist yet. */
  seed?: Record<string, string>;
  logger?: Logger;
}

export interface KeyVaultServer {
  /** https://127.0.0.1:<port>: the vault URL for SecretClient. */
  vaultUrl: string;
  port: number;
  caCertPem: string;
  stop(): Promise<void>;
}

type Handler = (res: ServerResponse, body: () => Promise<unknown>) => Promise<void> | void;

export async function startKeyVaultServer(options: StartKeyVaultServerOptions): Promise<KeyVaultServer> {
  const logger = options.logger ?? silentLogger;
  const tls = await ensureDevTls(options.tlsDir ? { dir: options.tlsDir } : {});
  const authorityHost = options.authorityHost.replace(/\/+$/, '');
  const verify = options.verifyAccessToken ??
    createRemoteAccessTokenVerifier({ authorityHost, tenantId: options.tenantId, caCertPem: tls.caCertPem });
  const store = await SecretStore.open({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.seed ? { seed: options.seed } : {}),
  });
  const challenge = `Bearer authorization="${authorityHost}/${options.tenantId}", resource="${VAULT_RESOURCE}"`;
  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.2' });
  const port = await listen(server, options.port ?? 0);
  const vaultUrl = `https://127.0.0.1:${port}`;

  const unauthorized = (res: ServerResponse, message: string) =>
    sendJson(res, 401, kvError('Unauthorized', message), { 'www-authenticate': challenge });

  server.on('request', (req, res) => {
    let route = 'unmatched';
    logRequest(logger, 'keyvault', req, res, () => route);
    const matched = routeOf(req);
    if (matched) route = matched.route;
    void (async () => {
      // Authentication comes before dispatch and parsing, exactly like Key Vault: the SDK's first, body-less
      // request must get the challenge whatever it asked for.
      const auth = String(req.headers.authorization ?? '');
      const m = /^Bearer ([A-Za-z0-9._-]+)$/.exec(auth);
      if (!m) return unauthorized(res, 'AKV10000: Request is missing a Bearer or PoP token.');
      const checked = await verify(m[1]!, VAULT_RESOURCE);
      if (!checked.ok) {
        logger.warn('keyvault.token_rejected', { reason: checked.code });
        return unauthorized(res, `AKV10022: Invalid token (${checked.code}).`);
      }
      const appId = checked.value.appid;
      if (options.allowedClientIds && !(typeof appId === 'string' && options.allowedClientIds.includes(appId))) {
        logger.warn('keyvault.forbidden', { reason: 'client_not_allowed' });
        return sendJson(res, 403, kvError('Forbidden', 'Caller is not authorized to perform action on resource.', 'ForbiddenByRbac'));
      }
      if (!queryOf(req.url).get('api-version')) return sendJson(res, 400, kvError('BadParameter', 'The request is missing api-version.'));
      if (!matched) return sendJson(res, 404, kvError('NotFound', 'No such operation.'));
      const body = async () => {
        const raw = await readBody(req, MAX_BODY_BYTES);
        if (raw === undefined) throw new BodyError(413, 'Request body too large.');
        try { return raw.length ? JSON.parse(raw.toString('utf8')) : undefined; } catch { throw new BodyError(400, 'Body is not JSON.'); }
      };
      await matched.handler(res, body);
    })().catch((e: unknown) => {
      if (res.headersSent) return res.destroy();
      if (e instanceof BodyError) return sendJson(res, e.status, kvError('BadParameter', e.message));
      logger.error('keyvault.internal_error', { route });
      sendJson(res, 500, kvError('InternalServerError', 'Internal error.'));
    });
  });

  function routeOf(req: IncomingMessage): { route: string; handler: Handler } | undefined {
    const seg = pathSegments(req.url);
    if (!seg) return undefined;
    const method = req.method ?? '';
    const q = queryOf(req.url);
    const [root, name, sub, extra] = seg;
    if (root === 'secrets') {
      if (seg.length === 1 && method === 'GET') return { route: '/secrets', handler: (res) => listSecrets(res, q) };
      if (!name || !NAME_RE.test(name)) return { route: '/secrets/{name}', handler: (res) => badName(res) };
      if (seg.length === 2 && method === 'PUT') return { route: '/secrets/{name}', handler: (res, body) => setSecret(res, name, body) };
      if (seg.length === 2 && method === 'DELETE') return { route: '/secrets/{name}', handler: (res) => deleteSecret(res, name) };
      if (seg.length === 2 && method === 'GET') return { route: '/secrets/{name}', handler: (res) => getSecret(res, name, undefined) };
      if (seg.length === 3 && sub === 'versions' && method === 'GET') {
        return { route: '/secrets/{name}/versions', handler: (res) => listVersions(res, name, q) };
      }
      if (seg.length === 3 && method === 'GET') return { route: '/secrets/{name}/{version}', handler: (res) => getSecret(res, name, sub) };
      if (seg.length === 3 && method === 'PATCH') {
        return { route: '/secrets/{name}/{version}', handler: (res, body) => updateSecret(res, name, sub, body) };
      }
      return undefined;
    }
    if (root === 'deletedsecrets') {
      if (seg.length === 1 && method === 'GET') return { route: '/deletedsecrets', handler: (res) => listDeleted(res, q) };
      if (!name || !NAME_RE.test(name)) return { route: '/deletedsecrets/{name}', handler: (res) => badName(res) };
      if (seg.length === 2 && method === 'GET') return { route: '/deletedsecrets/{name}', handler: (res) => getDeleted(res, name) };
      if (seg.length === 2 && method === 'DELETE') return { route: '/deletedsecrets/{name}', handler: (res) => purge(res, name) };
      if (seg.length === 3 && sub === 'recover' && extra === undefined && method === 'POST') {
        return { route: '/deletedsecrets/{name}/recover', handler: (res) => recover(res, name) };
      }
    }
    return undefined;
  }

  const badName = (res: ServerResponse) =>
    sendJson(res, 400, kvError('BadParameter', 'Secret names may contain only 0-9, a-z, A-Z and -, up to 127 characters.'));
  const notFound = (res: ServerResponse, name: string) =>
    sendJson(res, 404, kvError('SecretNotFound', `A secret with (name/id) ${name} was not found in this key vault.`));

  const secretId = (name: string, version?: string) => `${vaultUrl}/secrets/${name}${version ? `/${version}` : ''}`;
  const attributesJson = (a: SecretVersion['attributes']) => ({
    enabled: a.enabled, created: a.created, updated: a.updated,
    ...(a.nbf !== undefined ? { nbf: a.nbf } : {}), ...(a.exp !== undefined ? { exp: a.exp } : {}),
    recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90,
  });
  const propsJson = (v: SecretVersion) => ({
    ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
    ...(v.tags !== undefined ? { tags: v.tags } : {}),
    attributes: attributesJson(v.attributes),
  });
  const bundle = (name: string, v: SecretVersion) => ({ value: v.value, id: secretId(name, v.version), ...propsJson(v) });
  const deletedJson = (d: DeletedSecret, withValue: boolean) => {
    const latest = d.secret.versions[d.secret.versions.length - 1]!;
    return {
      ...(withValue ? bundle(d.secret.name, latest) : { id: secretId(d.secret.name, latest.version), ...propsJson(latest) }),
      recoveryId: `${vaultUrl}/deletedsecrets/${d.secret.name}`,
      deletedDate: d.deletedDate,
      scheduledPurgeDate: d.scheduledPurgeDate,
    };
  };

  function page<T>(res: ServerResponse, items: T[], q: URLSearchParams, basePath: string) {
    const max = Math.min(Number(q.get('maxresults') ?? PAGE_MAX) || PAGE_MAX, PAGE_MAX);
    const skip = Math.max(0, Number(q.get('$skiptoken') ?? 0) || 0);
    const slice = items.slice(skip, skip + max);
    const next = skip + max < items.length
      ? `${vaultUrl}${basePath}?api-version=${encodeURIComponent(q.get('api-version') ?? '')}&maxresults=${max}&$skiptoken=${skip + max}`
      : null;
    sendJson(res, 200, { value: slice, nextLink: next });
  }

  function listSecrets(res: ServerResponse, q: URLSearchParams) {
    const items = store.list().map((s: StoredSecret) => ({ id: secretId(s.name), ...propsJson(s.versions[s.versions.length - 1]!) }));
    page(res, items, q, '/secrets');
  }

  function listVersions(res: ServerResponse, name: string, q: URLSearchParams) {
    const versions = store.versions(name);
    if (!versions) return notFound(res, name);
    const canonical = store.nameOf(name)!;
    page(res, versions.map((v) => ({ id: secretId(canonical, v.version), ...propsJson(v) })), q, `/secrets/${canonical}/versions`);
  }

  function getSecret(res: ServerResponse, name: string, version: string | undefined) {
    if (version !== undefined && !VERSION_RE.test(version)) return notFound(res, name);
    const v = store.get(name, version);
    if (!v) return notFound(res, name);
    if (!v.attributes.enabled) {
      return sendJson(res, 403, kvError('Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled'));
    }
    sendJson(res, 200, bundle(store.nameOf(name)!, v));
  }

  async function setSecret(res: ServerResponse, name: string, body: () => Promise<unknown>) {
    const b = (await body()) as Partial<{ value: unknown; contentType: unknown; tags: unknown; attributes: Record<string, unknown> }> | undefined;
    if (!b || typeof b.value !== 'string') return sendJson(res, 400, kvError('BadParameter', 'Property "value" is required.'));
    if (Buffer.byteLength(b.value) > MAX_VALUE_BYTES) return sendJson(res, 400, kvError('BadParameter', 'Secret value is too large.'));
    const input: SetSecretInput = { value: b.value, ...propsFromBody(b) };
    const outcome = await store.set(name, input);
    if (!outcome.ok) {
      return sendJson(res, 409, kvError('Conflict', `Secret ${name} is currently in a deleted but recoverable state.`, 'ObjectIsDeletedButRecoverable'));
    }
    sendJson(res, 200, bundle(store.nameOf(name)!, outcome.version));
  }

  async function updateSecret(res: ServerResponse, name: string, version: string | undefined, body: () => Promise<unknown>) {
    const b = ((await body()) ?? {}) as Partial<{ contentType: unknown; tags: unknown; attributes: Record<string, unknown> }>;
    const v = version && VERSION_RE.test(version) ? await store.update(name, version, propsFromBody(b)) : undefined;
    if (!v) return notFound(res, name);
    const { value: _omit, ...withoutValue } = bundle(store.nameOf(name)!, v);
    sendJson(res, 200, withoutValue);
  }

  async function deleteSecret(res: ServerResponse, name: string) {
    const d = await store.delete(name);
    if (!d) return notFound(res, name);
    sendJson(res, 200, deletedJson(d, false));
  }

  function getDeleted(res: ServerResponse, name: string) {
    const d = store.getDeleted(name);
    if (!d) return sendJson(res, 404, kvError('SecretNotFound', `Deleted Secret not found: ${name}`));
    sendJson(res, 200, deletedJson(d, false));
  }

  function listDeleted(res: ServerResponse, q: URLSearchParams) {
    page(res, store.listDeleted().map((d) => deletedJson(d, false)), q, '/deletedsecrets');
  }

  async function purge(res: ServerResponse, name: string) {
    if (!(await store.purge(name))) return sendJson(res, 404, kvError('SecretNotFound', `Deleted Secret not found: ${name}`));
    res.writeHead(204).end();
  }

  async function recover(res: ServerResponse, name: string) {
    const s = await store.recover(name);
    if (!s) return sendJson(res, 404, kvError('SecretNotFound', `Deleted Secret not found: ${name}`));
    const latest = s.versions[s.versions.length - 1]!;
    const { value: _omit, ...withoutValue } = bundle(s.name, latest);
    sendJson(res, 200, withoutValue);
  }

  return {
    vaultUrl,
    port,
    caCertPem: tls.caCertPem,
    stop: () => closeServer(server),
  };
}

class BodyError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function propsFromBody(b: { contentType?: unknown; tags?: unknown; attributes?: Record<string, unknown> }): Omit<Partial<SetSecretInput>, 'value'> {
  const out: Omit<Partial<SetSecretInput>, 'value'> = {};
  if (typeof b.contentType === 'string') out.contentType = b.contentType;
  if (b.tags && typeof b.tags === 'object' && !Array.isArray(b.tags)) {
    out.tags = Object.fromEntries(Object.entries(b.tags).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  }
  const a = b.attributes ?? {};
  if (typeof a.enabled === 'boolean') out.enabled = a.enabled;
  if (typeof a.nbf === 'number') out.nbf = a.nbf;
  if (typeof a.exp === 'number') out.exp = a.exp;
  return out;
}

function kvError(code: string, message: string, inner?: string): object {
  return { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } };
}
