// A stand-in `az` for deploy tests (the Azure CLI cannot be installed on these machines): a Node script on PATH that
// records each argv as one JSON line and answers the few commands a deployment runs. Behaviour switches via env.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface FakeAz {
  /** Directory holding `az`: put it first on PATH. */
  binDir: string;
  /** Env for a run: PATH with the fake first (and node), the argv log, plus `extra`. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Every argv the fake received, in order. */
  calls(): string[][];
  reset(): void;
  dispose(): void;
}

const SCRIPT = `#!/usr/bin/env node
const fs = require('node:fs');
const argv = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_AZ_LOG, JSON.stringify(argv) + '\\n');
const cmd = argv.join(' ');
const failOn = process.env.FAKE_AZ_FAIL || '';
if (failOn && cmd.startsWith(failOn)) {
  process.stderr.write('ERROR: simulated failure of ' + failOn + '\\n');
  process.exit(1);
}
if (cmd.startsWith('account show')) {
  if (process.env.FAKE_AZ_LOGGED_OUT) {
    process.stderr.write("ERROR: Please run 'az login' to setup account.\\n");
    process.exit(1);
  }
  process.stdout.write('Contoso Dev\\t00000000-0000-0000-0000-0000000000aa\\n');
} else if (cmd.startsWith('group show')) {
  if (process.env.FAKE_AZ_NO_GROUP) {
    process.stderr.write('ERROR: (ResourceGroupNotFound)\\n');
    process.exit(3);
  }
} else if (cmd.startsWith('deployment group what-if')) {
  process.stdout.write('Resource and property changes are indicated with these symbols:\\n  + Create\\n\\nResource changes: 42 to create.\\n');
} else if (cmd.startsWith('deployment group show')) {
  // The registry outputs of main.bicep (registryName, registryLoginServer, registryBuildAgentPool), as tsv.
  process.stdout.write(process.env.FAKE_AZ_NO_REGISTRY ? '\\t\\t\\n' : 'karsacrx1y2z3\\tkarsacrx1y2z3.azurecr.io\\tkars-build\\n');
} else if (cmd.startsWith('acr build')) {
  process.stdout.write('Queued a build with ID: ca1\\nStep 1/20 : FROM node:20-bookworm-slim\\nRun ID: ca1 was successful\\n');
} else if (cmd.startsWith('acr task list-runs')) {
  process.stdout.write(process.env.FAKE_AZ_NO_DIGEST ? '\\n' : 'sha256:' + 'c'.repeat(64) + '\\n');
} else if (cmd.startsWith('deployment group create')) {
  process.stdout.write(JSON.stringify({ hooksBaseUrl: { type: 'String', value: 'https://kars-hooks.example.azurefd.net/api/hooks' } }, null, 2) + '\\n');
}
`;

export function createFakeAz(): FakeAz {
  const binDir = mkdtempSync(join(tmpdir(), 'kars-fake-az-'));
  const log = join(binDir, 'calls.jsonl');
  const az = join(binDir, 'az');
  writeFileSync(az, SCRIPT);
  chmodSync(az, 0o755);
  return {
    binDir,
    env: (extra = {}) => ({ PATH: `${binDir}:${dirname(process.execPath)}`, HOME: binDir, FAKE_AZ_LOG: log, ...extra }),
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]) : []),
    reset: () => rmSync(log, { force: true }),
    dispose: () => rmSync(binDir, { recursive: true, force: true }),
  };
}
