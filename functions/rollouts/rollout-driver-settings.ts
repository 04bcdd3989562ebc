// Settings of the AKS SandboxDriver (Azure mode), parsed when the first rollout activity needs the driver: until they
// are valid, rollout activities fail closed with CONFIG_INVALID. The release key is the one the Kyverno policy pins
// (RR1); no setting can switch the image pre-flight off.
import { z } from 'zod';
import { KarsError } from '../../core/errors';

/** Azure Kubernetes Service AAD server application: the audience of Entra tokens for the AKS API (Azure RBAC). */
export const AKS_AAD_SERVER_SCOPE = '6dae42f8-4368-4678-94ff-3960e28e3630/.default';

const schema = z.object({
  KARS_AKS_API_SERVER: z.url().refine((u) => u.startsWith('https://'), 'https only'),
  /** Base64 of the cluster CA certificate (PEM), as `az aks get-credentials` writes it. */
  KARS_AKS_CA_CERT: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/),
  KARS_AKS_TOKEN_SCOPE: z.string().min(1).default(AKS_AAD_SERVER_SCOPE),
  /** PEM (P-256) of the image release key. */
  KARS_IMAGE_SIGNING_PUBLIC_KEY: z.string().includes('BEGIN PUBLIC KEY'),
});

export const ROLLOUT_DRIVER_SETTING_KEYS: readonly string[] = Object.keys(schema.shape);

export interface RolloutDriverSettings {
  apiServer: string;
  caCertBase64: string;
  tokenScope: string;
  imagePublicKeyPem: string;
}

/** @throws KarsError CONFIG_INVALID naming the keys, never their values */
export function loadRolloutDriverSettings(env: Readonly<Record<string, string | undefined>>): RolloutDriverSettings {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new KarsError('CONFIG_INVALID', `invalid or missing settings: ${[...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ')}`);
  }
  const s = parsed.data;
  return { apiServer: s.KARS_AKS_API_SERVER, caCertBase64: s.KARS_AKS_CA_CERT, tokenScope: s.KARS_AKS_TOKEN_SCOPE, imagePublicKeyPem: s.KARS_IMAGE_SIGNING_PUBLIC_KEY };
}
