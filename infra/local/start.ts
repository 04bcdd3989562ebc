// `npm start`: the whole local stack on 127.0.0.1 — dev TLS, identity, Key Vault, Azurite, Cosmos, Service Bus, the
// Functions host, the model stand-in and two demo sandboxes' routers — then one "kars local stack ready" line once
// /api/health reports every part ok and both routers answer.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { ensureDevTls } from './tls/dev-tls';
import { devCaTrustEnv } from './tls/ca-trust';
import { startIdentityServer } from './identity/identity-server';
import { startKeyVaultServer } from './keyvault/keyvault-server';
import { startAzurite } from './azurite/start-azurite';
import { DEFAULT_LOCAL_DEPLOYMENTS, startModelUpstream } from './model-upstream/model-upstream-server';
import { startChildService, type ChildService } from './stack/child-service';
import { RouterSupervisor } from './stack/router-supervisor';
import { startRouterControlServer } from './stack/router-control-server';
import { portOf, readLocalSettings } from './stack/local-settings';
import { TRUST_UPDATES_QUEUE } from '../../adapters/trust/trust-containers';
import { LocalSandboxIdentityProvisioner, type LocalSandboxIdentityGrant } from '../../adapters/local-sandbox-identity/local-sandbox-identity-provisioner';
import { createCosmosClient } from '../../adapters/cosmos/cosmos-client';
import { DOCUMENT_PARTITION_KEY_PATH, ensureCosmosContainers } from '../../adapters/cosmos/cosmos-containers';
import { redact } from '../../core/secrets/redacted';
import { DEFAULT_MESH_QUEUE } from '../../adapters/mesh/bus-mesh-notifier';
import { MESH_TOKEN_AUDIENCE } from '../../core/mesh/router-auth/verify-router-token';
import { writeTokenFile } from './identity/service-account-issuer';
import { ROUTER_AUDIT_TOKEN_AUDIENCE } from '../../functions/audit/router-audit-settings';

// Queues as bicep/ declares them: mesh notifications are ordered per sandbox (session = sandbox id), trust updates per
// subject DID (session = DID). Each sandbox's events queue sbx-<id> is created with the sandbox (T1-E, below).
const LOCAL_QUEUES = [
  { name: DEFAULT_MESH_QUEUE, requiresSession: true },
  { name: TRUST_UPDATES_QUEUE, requiresSession: true },
];
const HEALTH_QUEUE = 'kars-health';

/**
 * T1-E: the Function app's broker roles, each scoped to one queue as bicep/ assigns them (no namespace-wide role for
 * anyone). Its Data Sender role on each sandbox queue comes with the sandbox (LocalSandboxIdentityProvisioner).
 */
function functionAppRoles(principalId: string): object[] {
  const role = (scope: string, r: string) => ({ id: `app-${scope}-${r.split(' ').pop()!.toLowerCase()}`, principalId, scope, role: r });
  return [
    role(TRUST_UPDATES_QUEUE, 'Azure Service Bus Data Sender'), role(TRUST_UPDATES_QUEUE, 'Azure Service Bus Data Receiver'),
    role(DEFAULT_MESH_QUEUE, 'Azure Service Bus Data Sender'), role(DEFAULT_MESH_QUEUE, 'Azure Service Bus Data Receiver'),
    role(HEALTH_QUEUE, 'Azure Service Bus Data Receiver'),
  ];
}

const root = resolve(__dirname, '..', '..', '..');
const dist = join(root, 'dist', 'infra', 'local');
const routerMain = join(root, 'dist', 'sandbox-node', 'router', 'main.js');
/** The two demo sandboxes, each with its own router (as one sandbox pod each in AKS). */
const DEMO_SANDBOXES = [
  { id: 'demo-sandbox', portEnv: 'KARS_LOCAL_ROUTER_PORT', port: 8443, tag: 'routerA' },
  { id: 'demo-sandbox-b', portEnv: 'KARS_LOCAL_ROUTER_B_PORT', port: 8444, tag: 'routerB' },
] as const;
const envPort = (name: string, fallback: number): number => {
  const v = process.env[name];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : fallback;
};
const say = (line: string): void => {
  process.stdout.write(line + '\n');
};

/**
 * Dev-only secrets the local vault starts with: random per data dir, created once (0600) and never published. The
 * audit public key is written beside them so `npx kars audit verify --public-key` works against the local stack.
 */
function devSecrets(dataDir: string): Record<string, string> {
  const file = join(dataDir, 'dev-secrets.json');
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    const secrets = {
      'kars-audit-signing-key': privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
      'kars-health': randomBytes(16).toString('hex'),
    };
    writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  }
  const secrets = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const signing = createPrivateKey({ key: Buffer.from(secrets['kars-audit-signing-key']!, 'base64'), format: 'der', type: 'pkcs8' });
  writeFileSync(join(dataDir, 'audit-public-key.pem'), createPublicKey(signing).export({ format: 'pem', type: 'spki' }));
  return secrets;
}

async function waitForHealth(url: string, timeoutMs: number): Promise<Record<string, { state: string }>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, { state: string }> = {};
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
      const body = (await r.json()) as { dependencies: Record<string, { state: string }> };
      last = body.dependencies;
      if (r.status === 200) return last;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`local stack not healthy: ${Object.entries(last).filter(([, d]) => d.state !== 'ok').map(([n]) => n).join(', ') || 'no answer'}`);
}

async function waitForRouter(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`router ${url} did not answer`);
}

async function main(): Promise<void> {
  const settings = readLocalSettings(root);
  const v = settings.values;
  const dataDir = resolve(root, process.env.KARS_LOCAL_DATA_DIR ?? '.kars-local');
  mkdirSync(dataDir, { recursive: true });
  const stoppers: Array<() => Promise<void>> = [];
  let stopping = false;
  const stopAll = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const tls = await ensureDevTls({ dir: join(dataDir, 'tls') });
    const trust = await devCaTrustEnv(tls);

    // The stack's management key (local stand-in for ARM's caller check): broker queues and role assignments,
    // workload identities. Random per start, handed to the children in their environment, never printed.
    const adminKey = randomBytes(24).toString('base64url');
    const identity = await startIdentityServer({
      port: envPort('KARS_LOCAL_IDENTITY_PORT', 8300),
      tlsDir: tls.dir,
      federatedTokenFile: join(dataDir, 'identity', 'azure-identity-token'),
      adminKey,
    });
    stoppers.push(() => identity.stop());
    say(`identity server listening on ${new URL(identity.authorityHost).port}`);

    const vault = await startKeyVaultServer({
      authorityHost: identity.authorityHost,
      tenantId: identity.tenantId,
      port: envPort('KARS_LOCAL_KEYVAULT_PORT', portOf(v.KARS_KEYVAULT_URL, 8200)),
      tlsDir: tls.dir,
      verifyAccessToken: identity.verifyAccessToken,
      dataDir: join(dataDir, 'keyvault'),
      seed: devSecrets(dataDir),
    });
    stoppers.push(() => vault.stop());
    say(`key vault listening on ${vault.port}`);

    const blobPort = envPort('KARS_LOCAL_AZURITE_PORT', 10000);
    // 0 lets every service pick a free port (tests); otherwise the three services sit side by side as in Azurite.
    const next = (n: number): number => (blobPort === 0 ? 0 : blobPort + n);
    const azurite = await startAzurite({ location: join(dataDir, 'azurite'), blobPort, queuePort: next(1), tablePort: next(2) });
    stoppers.push(() => azurite.stop());
    say(`azurite pid=${azurite.pid} listening on ${azurite.blobPort}`);

    const children: ChildService[] = [];
    const cosmos = await startChildService('cosmos', join(dist, 'cosmos', 'main.js'), {
      args: ['--port', String(envPort('KARS_LOCAL_COSMOS_PORT', portOf(v.KARS_COSMOS_ENDPOINT, 8081))), '--data-dir', join(dataDir, 'cosmos')],
      // What the start found on disk (items restored, a torn last record dropped): worth a line in the stack's output.
      onLine: (line) => {
        if (line.startsWith('cosmos journal:')) say(line);
      },
    });
    children.push(cosmos);
    stoppers.push(() => cosmos.stop());
    // T1-E: the broker checks every token against the identity stand-in's keys and every link against role assignments.
    let brokerAdminPort: number | undefined;
    const bus = await startChildService('servicebus', join(dist, 'servicebus', 'main.js'), {
      args: [
        '--port', String(envPort('KARS_LOCAL_SERVICEBUS_PORT', portOf(`sb://${v.KARS_SERVICEBUS_NAMESPACE ?? ''}`, 5672))),
        '--data-dir', join(dataDir, 'servicebus'), '--queues', JSON.stringify([...LOCAL_QUEUES, { name: HEALTH_QUEUE }]),
        '--authority-host', identity.authorityHost, '--tenant-id', identity.tenantId, '--ca-file', tls.caCertFile,
        '--role-assignments', JSON.stringify(functionAppRoles(identity.workloadPrincipalId)), '--admin-port', '0',
      ],
      env: { KARS_LOCAL_ADMIN_KEY: adminKey },
      onLine: (line) => {
        const m = /^servicebus broker listening on \d+ \(admin (\d+)\)$/.exec(line);
        if (m) brokerAdminPort = Number(m[1]);
      },
    });
    children.push(bus);
    stoppers.push(() => bus.stop());
    for (const c of children) say(`${c.name} pid=${c.pid} listening on ${c.port}`);

    // LOCAL STAND-IN for Azure OpenAI / Foundry: answers only tokens from the local identity server for its audience.
    const model = await startModelUpstream({
      port: envPort('KARS_LOCAL_MODEL_PORT', 8310),
      tlsDir: tls.dir,
      verifyAccessToken: identity.verifyAccessToken,
    });
    stoppers.push(() => model.stop());
    say(`model stand-in listening on ${model.port}`);

    // The routers run as their own processes and get their token from the local identity endpoint through
    // @azure/identity's WorkloadIdentityCredential, exactly as in AKS (projected service-account token file).
    // RR3: the routers draw their token budgets from the edge's limit documents, so the container must exist first.
    const cosmosEndpoint = `http://127.0.0.1:${cosmos.port}`;
    const cosmosKey = v.KARS_COSMOS_KEY ?? 'DEV-ONLY-cosmos-local-key-not-a-secret';
    const cosmosDatabase = v.KARS_COSMOS_DATABASE ?? 'kars';
    const setupClient = createCosmosClient({ endpoint: cosmosEndpoint, key: redact(cosmosKey) });
    await ensureCosmosContainers(setupClient, cosmosDatabase, [{ id: 'limits', partitionKeyPath: DOCUMENT_PARTITION_KEY_PATH, defaultTtlSec: -1 }]);
    setupClient.dispose();
    // Rollouts restart the routers through their supervisor; its control endpoint exists before the host that calls it
    // (answering 503 until the routers are up), since the routers need the host's URL.
    let supervisor: RouterSupervisor | undefined;
    const controlKey = randomBytes(24).toString('base64url');
    const control = await startRouterControlServer(() => supervisor, controlKey);
    stoppers.push(() => control.close());
    const httpPort = envPort('KARS_LOCAL_HTTP_PORT', settings.httpPort);
    const host = await startChildService('functions', join(dist, 'host', 'main.js'), {
      env: {
        ...v,
        ...trust,
        KARS_HTTP_PORT: String(httpPort),
        KARS_COSMOS_ENDPOINT: `http://127.0.0.1:${cosmos.port}`,
        // Entra tokens over the emulator transport (T1-E): a SAS connection string would be refused by the broker.
        KARS_SERVICEBUS_CONNECTION: undefined,
        KARS_SERVICEBUS_NAMESPACE: `127.0.0.1:${bus.port}`,
        KARS_SERVICEBUS_EMULATOR: 'true',
        KARS_KEYVAULT_URL: vault.vaultUrl,
        AzureWebJobsStorage: azurite.connectionString,
        AZURE_AUTHORITY_HOST: identity.authorityHost,
        AZURE_TENANT_ID: identity.tenantId,
        AZURE_CLIENT_ID: identity.clientId,
        AZURE_FEDERATED_TOKEN_FILE: identity.federatedTokenFile,
        // Router tokens of the mesh and router-receipt routes are checked against the stand-in's cluster OIDC issuer.
        KARS_MESH_OIDC_ISSUER: identity.serviceAccountIssuer,
        KARS_MESH_OIDC_JWKS_URL: `${identity.serviceAccountIssuer}/openid/v1/jwks`,
        // The runner's journal: acknowledged starts, approvals and episodes survive a SIGKILL (Azurite saves every 5 s).
        KARS_LOCAL_DURABLE_DIR: join(dataDir, 'durable'),
        KARS_LOCAL_ROUTER_CONTROL_URL: control.url,
        KARS_LOCAL_ROUTER_CONTROL_KEY: controlKey,
      },
      onLine: (line) => say(line),
    });
    stoppers.push(() => host.stop());
    const base = `http://127.0.0.1:${host.port}`;
    // T1-E: each demo sandbox is created as in Azure: its own events queue, its own workload identity federated with
    // its own router service account, and a receive-only role on that queue; the edge may only send there.
    if (brokerAdminPort === undefined) throw new Error('the broker did not report its management port');
    const provisioner = new LocalSandboxIdentityProvisioner({
      brokerAdminUrl: `http://127.0.0.1:${brokerAdminPort}`, identityUrl: identity.authorityHost, caCertPem: tls.caCertPem,
      adminKey: redact(adminKey), senderPrincipalIds: [identity.workloadPrincipalId], sharedReceiverQueues: [DEFAULT_MESH_QUEUE],
    });
    const grants = new Map<string, LocalSandboxIdentityGrant>();
    for (const sb of DEMO_SANDBOXES) grants.set(sb.id, await provisioner.provision(sb.id));
    for (const sb of DEMO_SANDBOXES) {
      // As the kubelet projects it: a token naming the sandbox's namespace, audience kars-audit, renewed before expiry.
      const auditTokenFile = join(dataDir, 'routers', sb.id, 'audit-token');
      const mintAuditToken = (): Promise<void> => writeTokenFile(auditTokenFile, identity.mintServiceAccountToken({
        subject: `system:serviceaccount:${sb.id}:kars-router`, audience: ROUTER_AUDIT_TOKEN_AUDIENCE, lifetimeSec: 3600,
      }));
      await mintAuditToken();
      const renew = setInterval(() => void mintAuditToken().catch(() => undefined), 45 * 60_000);
      renew.unref();
      stoppers.push(async () => clearInterval(renew));
    }
    // T4: each demo router bridges its agent to the mesh routes (`/agt/relay`, `/agt/registry/…`) with its own
    // sandbox's router token (kept fresh in a file, as the kubelet projects it) and its own countersigning key.
    const demoMeshEnv = async (sandboxId: string): Promise<Record<string, string>> => {
      const dir = join(dataDir, 'mesh', sandboxId);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const keyFile = join(dir, 'sandbox-key.pem');
      if (!existsSync(keyFile)) writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
      const tokenFile = join(dir, 'router-token');
      const mint = (): Promise<void> => writeTokenFile(tokenFile, identity.mintServiceAccountToken({ subject: `system:serviceaccount:${sandboxId}:kars-router`, audience: MESH_TOKEN_AUDIENCE, lifetimeSec: 3600 }));
      await mint();
      // Re-minted at 80 % of the lifetime, like the kubelet's projected tokens.
      const rotation = setInterval(() => void mint().catch(() => undefined), 2880_000);
      rotation.unref();
      stoppers.push(async () => clearInterval(rotation));
      return {
        // KARS_LOCAL_MESH_FUNCTIONS_URL: the mesh latency bench puts a timing proxy in front of the mesh routes.
        KARS_MESH_FUNCTIONS_URL: process.env.KARS_LOCAL_MESH_FUNCTIONS_URL ?? `${base}/api`,
        KARS_MESH_ROUTER_TOKEN_FILE: tokenFile,
        KARS_MESH_SANDBOX_KEY_FILE: keyFile,
        KARS_MESH_BINDING_FILE: join(dir, 'agent-binding.json'),
        // Mesh notices on the local broker with the sandbox's own identity (Entra tokens, emulator transport).
        KARS_MESH_SERVICEBUS_NAMESPACE: `127.0.0.1:${bus.port}`,
        KARS_MESH_SERVICEBUS_EMULATOR: 'true',
        // The demo agents have no trust recorded, so the demo routers run without a trust floor unless told otherwise
        // (KARS_LOCAL_MESH_TRUST_THRESHOLD / _URL); the router's own default is 500.
        KARS_MESH_TRUST_THRESHOLD: process.env.KARS_LOCAL_MESH_TRUST_THRESHOLD ?? '0',
        ...(process.env.KARS_LOCAL_MESH_TRUST_URL ? { KARS_MESH_TRUST_URL: process.env.KARS_LOCAL_MESH_TRUST_URL } : {}),
        ...(process.env.KARS_LOCAL_MESH_POLL_MS ? { KARS_MESH_POLL_MS: process.env.KARS_LOCAL_MESH_POLL_MS } : {}),
        // RR2: the KNOCK gate reads live scores from the local trust plane (version-polled), with the same kars-mesh
        // token, so a signed trust update changes the next KNOCK decision without a router restart.
        // KARS_LOCAL_MESH_TRUST_URL (a test's own trust table) keeps the plain source instead.
        ...(process.env.KARS_LOCAL_MESH_TRUST_URL ? {} : { KARS_ROUTER_TRUST_API: `${base}/api`, KARS_ROUTER_MESH_TOKEN_FILE: tokenFile }),
      };
    };
    const meshEnvs = new Map<string, Record<string, string>>();
    for (const sb of DEMO_SANDBOXES) meshEnvs.set(sb.id, await demoMeshEnv(sb.id));
    // The supervisor owns the routers: a rollout restarts one with its new revision (infra/local/stack/router-supervisor.ts).
    const started = await RouterSupervisor.start({
      routerMain,
      dataDir: join(dataDir, 'routers'),
      sandboxes: DEMO_SANDBOXES.map((sb) => ({
        id: sb.id,
        listen: `127.0.0.1:${envPort(sb.portEnv, sb.port)}`,
        env: {
          KARS_ROUTER_AUDIT_TOKEN_FILE: join(dataDir, 'routers', sb.id, 'audit-token'),
          KARS_ROUTER_AUDIT_SPOOL_DIR: join(dataDir, 'routers', sb.id, 'receipt-spool'),
          ...meshEnvs.get(sb.id),
          // T1-E: the sandbox's own queue, read with the sandbox's own identity (its token names only its router's
          // service account).
          KARS_ROUTER_EVENTS_ENTITY: grants.get(sb.id)!.entity,
          AZURE_CLIENT_ID: grants.get(sb.id)!.clientId,
          AZURE_FEDERATED_TOKEN_FILE: grants.get(sb.id)!.federatedTokenFile,
        },
      })),
      baseEnv: {
        ...trust,
        // By name: the router's TLS agent pins the endpoint's DNS name (the dev certificate carries DNS:localhost).
        KARS_ROUTER_MODEL_ENDPOINT: `https://localhost:${model.port}`,
        KARS_ROUTER_DEPLOYMENTS: DEFAULT_LOCAL_DEPLOYMENTS.join(','),
        KARS_ROUTER_TENANT_ID: 'demo-tenant',
        KARS_COSMOS_ENDPOINT: cosmosEndpoint,
        KARS_COSMOS_KEY: cosmosKey,
        KARS_COSMOS_DATABASE: cosmosDatabase,
        // Inbound events over the emulator transport with Entra tokens (the broker checks them, T1-E).
        KARS_SERVICEBUS_NAMESPACE: `127.0.0.1:${bus.port}`,
        KARS_SERVICEBUS_EMULATOR: 'true',
        AZURE_AUTHORITY_HOST: identity.authorityHost,
        AZURE_TENANT_ID: identity.tenantId,
        // T2-R / T3-R: receipts to the Functions host's audit route with the sandbox's own kars-audit token.
        KARS_ROUTER_AUDIT_URL: base,
      },
      onLine: (line) => say(line),
    });
    supervisor = started;
    stoppers.push(() => started.stop());
    const routers = DEMO_SANDBOXES.map((sb) => ({ id: sb.id, tag: sb.tag, status: started.status(sb.id)! }));

    await waitForHealth(`${base}/api/health`, 60_000);
    // A router left at a revision it cannot run stays down (degraded) until a rollout rolls it back.
    for (const r of routers) if (started.status(r.id)?.process !== 'exited') await waitForRouter(r.status.url, 30_000);
    // The key is never in the URL: the page asks for it (local.settings.sample.json's DEV-ONLY master key).
    say(`operator console: ${base}/api/console/ (asks for the admin key KARS_LOCAL_MASTER_KEY; sent only in a header)`);
    const routerPids = routers.map((r) => `${r.tag} pid=${started.status(r.id)?.pid ?? 0}`).join(', ');
    say(`kars local stack ready on ${base}/api (functions pid=${host.pid}, cosmos pid=${cosmos.pid}, servicebus pid=${bus.pid}, azurite pid=${azurite.pid}, ${routerPids}) routers ${routers.map((r) => `${r.id}=${r.status.url}`).join(' ')}`);
  } catch (e) {
    process.stderr.write(`local stack failed to start: ${e instanceof Error ? e.message : 'unknown error'}\n`);
    await stopAll(1);
  }
}

void main();
