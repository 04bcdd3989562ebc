// App settings parsed once at start-up. A bad setting fails fast naming the key, never its value.
// Settings hold secret NAMES; values come from the SecretSource (Key Vault) only.
import { z } from 'zod';
import { KarsError } from '../core/errors';
import { intSetting } from './int-setting';


const settingsSchema = z.object({
  KARS_MODE: z.enum(['local', 'azure']).default('azure'),
  // Cosmos DB: endpoint always; key only for the local emulator (Azure uses the managed identity).
  KARS_COSMOS_ENDPOINT: z.url(),
  KARS_COSMOS_KEY: z.string().min(1).optional(),
  KARS_COSMOS_DATABASE: z.string().regex(/^[A-Za-z0-9-]{1,64}$/).default('kars'),
  // Service Bus: a connection string for the local broker, or the namespace host name in Azure.
  KARS_SERVICEBUS_CONNECTION: z.string().min(1).optional(),
  KARS_SERVICEBUS_NAMESPACE: z.string().min(1).optional(),
  // Local only: the namespace is the loopback broker (`127.0.0.1:<port>`), reached over plain TCP with Entra tokens
  // from the local identity stand-in, which the broker checks as Service Bus does (T1-E).
  KARS_SERVICEBUS_EMULATOR: z.enum(['true', 'false']).default('false'),
  // Azure Storage for the Functions host and the Durable task hub: a connection string locally (Azurite), the
  // identity-based account name in Azure (the host reads AzureWebJobsStorage__* itself).
  AzureWebJobsStorage: z.string().min(1).optional(),
  AzureWebJobsStorage__accountName: z.string().regex(/^[a-z0-9]{3,24}$/).optional(),
  KARS_DURABLE_TASKHUB: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,44}$/).default('KarsRollouts'),
  // Secrets: Key Vault in Azure (and locally against the local vault), or a JSON file for quick local runs.
  KARS_SECRETS_SOURCE: z.enum(['keyvault', 'file']).default('keyvault'),
  KARS_KEYVAULT_URL: z.url().optional(),
  KARS_SECRETS_FILE: z.string().min(1).optional(),
  KARS_AUDIT_SIGNING_KEY_NAME: z.string().regex(/^[A-Za-z0-9-]{1,127}$/).default('kars-audit-signing-key'),
  // The vault holding the checkpoint signing key, where the app may read but never write (T1-R); default KARS_KEYVAULT_URL.
  KARS_AUDIT_KEYVAULT_URL: z.url().optional(),
  KARS_AUDIT_CHAIN_PREFIX: z.string().regex(/^[a-z0-9_-]{1,40}$/).default('audit'),
  KARS_AUDIT_CHAIN_COUNT: intSetting(4),
  KARS_AUDIT_CHECKPOINT_EVERY: intSetting(64),
  // Identity: the scope the health probe asks a token for (proves the credential path end to end).
  KARS_IDENTITY_HEALTH_SCOPE: z.string().min(1).default('https://vault.azure.net/.default'),
  KARS_HEALTH_TIMEOUT_MS: intSetting(2000),
  // Edge and router limits (T1-D: 500 rps global, 50 rps per agent), shared by every instance through the document store.
  KARS_LIMIT_GLOBAL_RPS: intSetting(500),
  KARS_LIMIT_GLOBAL_BURST: intSetting(1000),
  KARS_LIMIT_AGENT_RPS: intSetting(50),
  KARS_LIMIT_AGENT_BURST: intSetting(100),
  KARS_LIMIT_MAX_INSTANCES: intSetting(3),
  KARS_LIMIT_AGENT_LEASE: intSetting(2),
});

export type Settings = z.infer<typeof settingsSchema>;

/** Every app setting the Function app reads; local.settings.sample.json must document each. */
export const SETTING_KEYS: readonly string[] = Object.keys(settingsSchema.shape);

export interface Config {
  mode: 'local' | 'azure';
  cosmos: { endpoint: string; key?: string; database: string };
  serviceBus: { connectionString?: string; namespace?: string; developmentEmulator: boolean };
  storage: { connectionString?: string; accountName?: string };
  durableTaskHub: string;
  secrets: { source: 'keyvault' | 'file'; vaultUrl?: string; file?: string };
  audit: { signingKeyName: string; vaultUrl?: string; chainPrefix: string; chainCount: number; checkpointEvery: number };
  identityHealthScope: string;
  healthTimeoutMs: number;
  limits: { globalRps: number; globalBurst: number; agentRps: number; agentBurst: number; maxInstances: number; agentLease: number };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** @throws KarsError CONFIG_INVALID naming the offending keys (never their values). */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    const keys = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    throw new KarsError('CONFIG_INVALID', `invalid or missing settings: ${keys}`);
  }
  const s = parsed.data;
  if (!s.KARS_SERVICEBUS_CONNECTION && !s.KARS_SERVICEBUS_NAMESPACE) {
    throw new KarsError('CONFIG_INVALID', 'invalid or missing settings: KARS_SERVICEBUS_CONNECTION or KARS_SERVICEBUS_NAMESPACE');
  }
  if (!s.AzureWebJobsStorage && !s.AzureWebJobsStorage__accountName) {
    throw new KarsError('CONFIG_INVALID', 'invalid or missing settings: AzureWebJobsStorage or AzureWebJobsStorage__accountName');
  }
  if (s.KARS_SECRETS_SOURCE === 'keyvault' && !s.KARS_KEYVAULT_URL) {
    throw new KarsError('CONFIG_INVALID', 'invalid or missing settings: KARS_KEYVAULT_URL');
  }
  if (s.KARS_SECRETS_SOURCE === 'file' && !s.KARS_SECRETS_FILE) {
    throw new KarsError('CONFIG_INVALID', 'invalid or missing settings: KARS_SECRETS_FILE');
  }
  if (s.KARS_MODE === 'azure' && s.KARS_COSMOS_KEY) {
    // Production reaches Cosmos with its managed identity only; an account key in app settings is a standing secret.
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_COSMOS_KEY is for local mode only');
  }
  if (s.KARS_SERVICEBUS_EMULATOR === 'true' && (s.KARS_MODE !== 'local' || !s.KARS_SERVICEBUS_NAMESPACE)) {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_SERVICEBUS_EMULATOR is for local mode with KARS_SERVICEBUS_NAMESPACE only');
  }
  return deepFreeze({
    mode: s.KARS_MODE,
    cosmos: { endpoint: s.KARS_COSMOS_ENDPOINT, key: s.KARS_COSMOS_KEY, database: s.KARS_COSMOS_DATABASE },
    serviceBus: {
      connectionString: s.KARS_SERVICEBUS_CONNECTION, namespace: s.KARS_SERVICEBUS_NAMESPACE,
      developmentEmulator: s.KARS_SERVICEBUS_EMULATOR === 'true',
    },
    storage: { connectionString: s.AzureWebJobsStorage, accountName: s.AzureWebJobsStorage__accountName },
    durableTaskHub: s.KARS_DURABLE_TASKHUB,
    secrets: { source: s.KARS_SECRETS_SOURCE, vaultUrl: s.KARS_KEYVAULT_URL, file: s.KARS_SECRETS_FILE },
    audit: {
      signingKeyName: s.KARS_AUDIT_SIGNING_KEY_NAME,
      vaultUrl: s.KARS_AUDIT_KEYVAULT_URL,
      chainPrefix: s.KARS_AUDIT_CHAIN_PREFIX,
      chainCount: s.KARS_AUDIT_CHAIN_COUNT,
      checkpointEvery: s.KARS_AUDIT_CHECKPOINT_EVERY,
    },
    identityHealthScope: s.KARS_IDENTITY_HEALTH_SCOPE,
    healthTimeoutMs: s.KARS_HEALTH_TIMEOUT_MS,
    limits: {
      globalRps: s.KARS_LIMIT_GLOBAL_RPS,
      globalBurst: s.KARS_LIMIT_GLOBAL_BURST,
      agentRps: s.KARS_LIMIT_AGENT_RPS,
      agentBurst: s.KARS_LIMIT_AGENT_BURST,
      maxInstances: s.KARS_LIMIT_MAX_INSTANCES,
      agentLease: s.KARS_LIMIT_AGENT_LEASE,
    },
  });
}
