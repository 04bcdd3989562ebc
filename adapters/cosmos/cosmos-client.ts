// Builds the @azure/cosmos client: account key locally (dev stand-in), Entra token credential in Azure.
import { CosmosClient } from '@azure/cosmos';
import type { CosmosClientOptions } from '@azure/cosmos';
import { KarsError } from '../../core/errors';
import type { Redacted } from '../../core/secrets/redacted';

export type CosmosTokenCredential = NonNullable<CosmosClientOptions['aadCredentials']>;

export type CosmosConnection =
  | { endpoint: string; key: Redacted<string> }
  | { endpoint: string; credential: CosmosTokenCredential };

export interface CreateCosmosClientOptions {
  /** Per-request timeout; the SDK's own default is 60 s, too long for a Function invocation. */
  requestTimeoutMs?: number;
  /** Retries on 429 throttling (SDK default 9). */
  maxThrottleRetries?: number;
  /** Upper bound on the total time spent in throttle retries (SDK default 30 s). */
  maxThrottleWaitSec?: number;
  /**
   * Multi-region endpoint discovery. Off by default for loopback endpoints: the discovery call ignores abort signals,
   * so a dead local server would otherwise hang callers.
   */
  endpointDiscovery?: boolean;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** @throws KarsError CONFIG_INVALID for a malformed endpoint or plain http to a non-loopback host. */
export function createCosmosClient(connection: CosmosConnection, options?: CreateCosmosClientOptions): CosmosClient {
  let url: URL;
  try {
    url = new URL(connection.endpoint);
  } catch {
    throw new KarsError('CONFIG_INVALID', 'cosmos endpoint is not a URL');
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new KarsError('CONFIG_INVALID', 'cosmos endpoint must be https (plain http only for the local loopback server)');
  }
  const base: CosmosClientOptions = {
    endpoint: url.origin,
    userAgentSuffix: 'kars',
    connectionPolicy: {
      requestTimeout: options?.requestTimeoutMs ?? 10_000,
      enableEndpointDiscovery: options?.endpointDiscovery ?? !loopback,
      retryOptions: {
        maxRetryAttemptCount: options?.maxThrottleRetries ?? 5,
        maxWaitTimeInSeconds: options?.maxThrottleWaitSec ?? 10,
      },
    },
  };
  if ('key' in connection) return new CosmosClient({ ...base, key: connection.key.reveal() });
  return new CosmosClient({ ...base, aadCredentials: connection.credential });
}
