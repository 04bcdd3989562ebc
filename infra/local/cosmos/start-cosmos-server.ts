// Local stand-in for Azure Cosmos DB: @zeit/cosmosdb-server over plain http (its bundled TLS cert has expired).
import type { AddressInfo } from 'node:net';
import { createHttpServer } from '@zeit/cosmosdb-server';
import { KarsError } from '../../../core/errors';

/**
 * DEV-ONLY: the publicly documented Cosmos DB emulator key. The local server accepts any key; the SDK only needs a
 * base64 string to sign with. Never use it against a real account.
 */
export const LOCAL_COSMOS_DEV_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

export interface StartCosmosServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1; the server has no authentication, keep it on loopback. */
  host?: string;
}

export interface LocalCosmosServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  /** DEV-ONLY key (LOCAL_COSMOS_DEV_KEY). */
  key: string;
  /** Closes the listener and every open connection; data is in memory and is lost. */
  stop(): Promise<void>;
}

/** @throws KarsError DEPENDENCY_UNAVAILABLE when the port cannot be bound. */
export async function startCosmosServer(options?: StartCosmosServerOptions): Promise<LocalCosmosServer> {
  const host = options?.host ?? '127.0.0.1';
  const server = createHttpServer();
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => {
      reject(new KarsError('DEPENDENCY_UNAVAILABLE', `local cosmos server could not listen: ${(e as { code?: string }).code ?? e.name}`));
    };
    server.once('error', onError);
    server.listen(options?.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://${urlHost}:${port}`,
    port,
    key: LOCAL_COSMOS_DEV_KEY,
    stop(): Promise<void> {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
