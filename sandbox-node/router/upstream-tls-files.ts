// T3-T / T3-S: the model upstream's TLS settings as the agent takes them: SPKI pins (already parsed by the settings)
// and the mTLS client certificate read once from the files the pod mounts (a Kubernetes secret, or Key Vault through
// the Secrets Store CSI driver). A rotated certificate takes effect at the next router start.
import { readFileSync } from 'node:fs';
import { KarsError } from '../../core/errors';
import { redact } from '../../core/secrets/redacted';
import type { UpstreamAgentOptions } from './egress/upstream-agent';
import type { RouterConfig } from './router-config';

/** @throws KarsError CONFIG_INVALID naming the setting whose file cannot be read (never its content) */
export function upstreamTlsOptions(tls: RouterConfig['upstreamTls']): Pick<UpstreamAgentOptions, 'spkiPins' | 'clientCertificate'> {
  const read = (file: string, key: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      throw new KarsError('CONFIG_INVALID', `invalid settings: ${key} cannot be read`);
    }
  };
  return {
    ...(tls.spkiPins.size > 0 ? { spkiPins: tls.spkiPins } : {}),
    ...(tls.clientCertificate
      ? {
        clientCertificate: {
          certPem: read(tls.clientCertificate.certFile, 'KARS_ROUTER_UPSTREAM_CLIENT_CERT_FILE'),
          keyPem: redact(read(tls.clientCertificate.keyFile, 'KARS_ROUTER_UPSTREAM_CLIENT_KEY_FILE')),
        },
      }
      : {}),
  };
}
