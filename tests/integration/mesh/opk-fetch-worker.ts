// Test helper (one-time prekey race): one "Function instance" as a real OS process. It builds the registry core on the
// real @azure/cosmos SDK against the shared local Cosmos server and, from a synchronised start, fires `fetches`
// concurrent prekey fetches for one DID; it reports the one-time prekey ids it handed out.
import { createLocalEdgeLimiter } from '../../../adapters/edge/local-edge-limiter';
import { perSecond } from '../../../core/limits/token-bucket';
import { createCosmosClient } from '../../../adapters/cosmos/cosmos-client';
import { CosmosDocumentStore } from '../../../adapters/cosmos/cosmos-document-store';
import { createDocumentReplayGuard } from '../../../adapters/edge/document-replay-guard';
import { createMeshRegistry } from '../../../core/mesh/registry/mesh-registry';
import type { MeshMitigation } from '../../../core/mesh/mesh-switches';
import { systemClock } from '../../../core/ports/clock.port';
import { systemSleep } from '../../../core/ports/sleep.port';
import { redact } from '../../../core/secrets/redacted';

export interface FetchScenario {
  endpoint: string;
  key: string;
  databaseId: string;
  agentsContainer: string;
  replayContainer: string;
  did: string;
  fetches: number;
  startAtMs: number;
  disable: MeshMitigation[];
}

export interface FetchResult {
  pid: number;
  handed: number[];
  noKey: number;
  errors: string[];
}

async function run(s: FetchScenario): Promise<FetchResult> {
  const client = createCosmosClient({ endpoint: s.endpoint, key: redact(s.key) });
  const database = client.database(s.databaseId);
  const registry = createMeshRegistry({
    agents: new CosmosDocumentStore(database.container(s.agentsContainer)),
    replay: createDocumentReplayGuard(new CosmosDocumentStore(database.container(s.replayContainer))),
    // Rates far above the race's: this test is about exactly-once hand-out, not T4-D.
    limiter: createLocalEdgeLimiter({ global: perSecond(100_000, 1_000_000), agent: perSecond(100_000, 1_000_000), tenantBudget: { requestRate: perSecond(100_000, 1_000_000) } }),
    clock: systemClock, sleep: systemSleep, logger: { info() {}, warn() {}, error() {} },
  }, { _disable: s.disable, maxCasAttempts: 200 });
  // Warm the connection so the first fetches are not serialised behind connection set-up.
  await registry.sandboxOf(s.did);
  await new Promise((r) => setTimeout(r, Math.max(0, s.startAtMs - Date.now())));
  const out: FetchResult = { pid: process.pid, handed: [], noKey: 0, errors: [] };
  await Promise.all(Array.from({ length: s.fetches }, async () => {
    const r = await registry.fetchPrekeys({ sandboxId: 'fetcher' }, s.did, null);
    if (!r.ok) { out.errors.push(r.code); return; }
    const otk = (r.body as { one_time_pre_key: { key_id: number } | null }).one_time_pre_key;
    if (otk) out.handed.push(otk.key_id);
    else out.noKey += 1;
  }));
  client.dispose();
  return out;
}

process.on('message', (msg: { type: 'run'; scenario: FetchScenario } | { type: 'exit' }) => {
  if (msg.type === 'exit') { process.exit(0); }
  run(msg.scenario).then(
    (result) => process.send!({ type: 'result', result }),
    (e: unknown) => process.send!({ type: 'error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
  );
});
process.send!({ type: 'ready' });
