// Local stand-in for the AKS OIDC issuer: signs projected service-account tokens (the workload identity assertion)
// and writes them where AZURE_FEDERATED_TOKEN_FILE points, rotating them like the kubelet does.
import { generateKeyPairSync } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { publicJwk, signJwt, signingKeyFrom, type SigningKey } from './jwt';

/** The audience Entra requires in a federated credential assertion. */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
export const DEFAULT_SERVICE_ACCOUNT_SUBJECT = 'system:serviceaccount:kars-system:kars-router';

export interface MintServiceAccountTokenOptions {
  subject?: string;
  audience?: string;
  /** Defaults to 3600 s, AKS's projected token default. */
  lifetimeSec?: number;
  /** Defaults to now; set it in the past to mint an expired token for tests. */
  issuedAtSec?: number;
}

export interface ServiceAccountIssuer {
  /** The issuer URL that appears in `iss` and in the federated credential. */
  issuer: string;
  key: SigningKey;
  jwks(): { keys: object[] };
  mint(options?: MintServiceAccountTokenOptions): string;
}

export function createServiceAccountIssuer(issuer: string, defaultSubject: string): ServiceAccountIssuer {
  const key = signingKeyFrom(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  return {
    issuer,
    key,
    jwks: () => ({ keys: [publicJwk(key)] }),
    mint(options = {}) {
      const iat = options.issuedAtSec ?? Math.floor(Date.now() / 1000);
      const exp = iat + (options.lifetimeSec ?? 3600);
      const sub = options.subject ?? defaultSubject;
      const [, namespace = '', name = ''] = sub.split(':').slice(1);
      return signJwt({
        iss: issuer,
        sub,
        aud: [options.audience ?? TOKEN_EXCHANGE_AUDIENCE],
        iat, nbf: iat, exp,
        'kubernetes.io': { namespace, serviceaccount: { name } },
      }, key);
    },
  };
}

/** Writes a token file (0600) atomically, so a reader never sees a half-written token. */
export async function writeTokenFile(filePath: string, token: string): Promise<void> {
  await fs.mkdir(path.dirname(filePath), { recursive: true, mode: 0o700 });
  const tmp = `${filePath}.${process.pid}.tmp`;
  await fs.writeFile(tmp, token, { mode: 0o600 });
  await fs.rename(tmp, filePath);
}
