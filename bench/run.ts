// `npm run bench [-- name...]`: every benchmark prints its figure beside an anchor measured in the same run.
import { benchAuditAppend } from './audit-append';
import { benchCosmosLocal } from './cosmos-local';
import { runEdgeBench } from './edge';
import { runRouterBench } from './router';
import { runMeshBench } from './mesh';
import { runMeshLatencyBench } from './mesh-latency';
import { runTrustBench } from './trust';
import { runConsoleBench } from './console';

const BENCHES: Record<string, () => Promise<unknown>> = {
  edge: () => runEdgeBench(),
  audit: () => benchAuditAppend(),
  cosmos: () => benchCosmosLocal(),
  router: () => runRouterBench(),
  mesh: async () => {
    await runMeshBench();
    await runMeshLatencyBench();
  },
  trust: () => runTrustBench(),
  console: () => runConsoleBench(),
};

async function main(): Promise<void> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((n) => !BENCHES[n]);
  if (unknown.length > 0) {
    process.stderr.write(`unknown bench: ${unknown.join(', ')} (have: ${Object.keys(BENCHES).join(', ')})\n`);
    process.exit(2);
  }
  for (const name of asked.length > 0 ? asked : Object.keys(BENCHES)) {
    console.log(`\n== bench ${name} ==`);
    await BENCHES[name]!();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.message : 'unknown error'}\n`);
    process.exit(1);
  },
);
