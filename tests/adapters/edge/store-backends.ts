// The two DocumentStore backends the edge adapters are tested against: memory, and the real @azure/cosmos SDK talking
// to the local Cosmos server (started by the test file itself).
import { createCosmosClient } from '../../../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers } from '../../../adapters/cosmos/cosmos-containers';
import { CosmosDocumentStore } from '../../../adapters/cosmos/cosmos-document-store';
import { MemoryDocumentStore } from '../../../adapters/memory/memory-document-store';
import type { Clock } from '../../../core/ports/clock.port';
import type { DocumentStore } from '../../../core/ports/document-store.port';
import { redact } from '../../../core/secrets/redacted';
import { startCosmosServer, type LocalCosmosServer } from '../../../infra/local/cosmos/start-cosmos-server';

export interface StoreBackend {
  name: string;
  /** A fresh, empty container each call. */
  open(clock: Clock): Promise<DocumentStore>;
  close(): Promise<void>;
}

export function memoryBackend(): StoreBackend {
  return { name: 'memory', open: async (clock) => new MemoryDocumentStore({ clock }), close: async () => {} };
}

export function cosmosBackend(): StoreBackend {
  let server: LocalCosmosServer | undefined;
  let n = 0;
  return {
    name: 'cosmos (local server, real SDK)',
    async open(clock) {
      server ??= await startCosmosServer();
      const client = createCosmosClient({ endpoint: server.endpoint, key: redact(server.key) });
      n += 1;
      const containers = await ensureCosmosContainers(client, 'kars-edge-test', [{ id: `c${n}` }]);
      return new CosmosDocumentStore(containers.get(`c${n}`)!, { clock });
    },
    async close() {
      await server?.stop();
    },
  };
}
