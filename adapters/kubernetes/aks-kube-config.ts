// A KubeConfig for the AKS API server with Azure RBAC: the cluster CA pinned, and an Entra access token of the
// Function app's managed identity as the bearer (fetched per operation from the token source, which caches it).
import type { TokenSource } from '../../core/ports/token-source.port';
import { loadClientNode, type ClientNode } from './load-client-node';

export interface AksKubeConfigOptions {
  apiServer: string;
  caCertBase64: string;
  tokenScope: string;
  tokens: TokenSource;
}

export function aksKubeConfig(options: AksKubeConfigOptions): () => Promise<InstanceType<ClientNode['KubeConfig']>> {
  return async () => {
    const [k8s, token] = await Promise.all([loadClientNode(), options.tokens.getToken(options.tokenScope)]);
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'aks', server: options.apiServer, caData: options.caCertBase64, skipTLSVerify: false }],
      users: [{ name: 'kars-functions', token: token.token.reveal() }],
      contexts: [{ name: 'aks', cluster: 'aks', user: 'kars-functions' }],
      currentContext: 'aks',
    });
    return kc;
  };
}
