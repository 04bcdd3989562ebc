// Runs the DocumentStore contract against the memory adapter and against the real @azure/cosmos SDK on the local server.
import { afterAll, beforeAll } from 'vitest';
import { createCosmosClient } from '../../../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers } from '../../../adapters/cosmos/cosmos-containers';
import { CosmosDocumentStore } from '../../../adapters/cosmos/cosmos-document-store';
import { MemoryDocumentStore } from '../../../adapters/memory/memory-document-store';
import { redact } from '../../../core/secrets/redacted';
import { startCosmosServer } from '../../../infra/local/cosmos/start-cosmos-server';
import type { LocalCosmosServer } from '../../../infra/local/cosmos/start-cosmos-server';
import { describeDocumentStoreContract } from '../../contracts/document-store.contract';

let server: LocalCosmosServer;
let n = 0;

beforeAll(async () => {
  server = await startCosmosServer();
});
afterAll(async () => {
  await server?.stop();
});

describeDocumentStoreContract('memory', async (clock) => ({ store: new MemoryDocumentStore({ clock }) }));

describeDocumentStoreContract('cosmos (local server, real SDK)', async (clock) => {
  const client = createCosmosClient({ endpoint: server.endpoint, key: redact(server.key) });
  n += 1;
  const containers = await ensureCosmosContainers(client, 'contract', [{ id: `docs${n}`, defaultTtlSec: -1 }]);
  return {
    store: new CosmosDocumentStore(containers.get(`docs${n}`)!, { clock }),
    cleanup: async () => client.dispose(),
  };
});
