// `kars audit verify`: walks every receipt chain in Cosmos and prints OK, or the first broken link of each broken chain.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createCosmosClient } from '../../adapters/cosmos/cosmos-client';
import { RECEIPTS_CONTAINER } from '../../adapters/cosmos/cosmos-containers';
import { createCosmosReceiptStore } from '../../adapters/cosmos/cosmos-receipt-store';
import { assertChainLayout, DEFAULT_CHAIN_LAYOUT } from '../../core/audit/chain-select';
import type { ChainLayout } from '../../core/audit/chain-select';
import { trustedKeyMap } from '../../core/audit/checkpoint';
import { assertChainName, isHex64 } from '../../core/audit/receipt';
import { verifyAuditLog } from '../../core/audit/verify-chain';
import type { AuditReport, TrustedHead } from '../../core/audit/verify-chain';
import { isKarsError } from '../../core/errors';
import type { CliCommand, CliIo } from '../command';
import { sendAuditVerifyReport, type AuditVerifyReport } from './audit-verify-report';
import { CliUsageError } from '../command';
import { readConnection, readPublicKey } from './audit-store-flags';

const USAGE = `usage: kars audit verify --public-key <file|base64> [--public-key ...] [--chain <name> ...]
       [--cosmos-endpoint <url>] [--cosmos-key <key>] [--cosmos-database <db>] [--cosmos-container <name>]
       [--chain-prefix <prefix>] [--chain-count <n>] [--state <file>] [--json] [--report]
  --public-key   trusted checkpoint key: PEM file, file or string with base64 of the 32 raw bytes (repeat for rotation)
  --chain        verify only this chain (repeatable); default: every registered chain and every chain of the layout
  --report       send the verdict (intact, broken, unreadable; counts only) to Application Insights as a
                 kars.audit.verify event (APPLICATIONINSIGHTS_CONNECTION_STRING, Entra sign-in): the deployment alerts
                 on a broken chain and on a day without a verdict
  --state        verifier state file: heads seen intact on earlier runs are held against the store (detects
                 truncation even after checkpoints were deleted); updated only when everything verifies
  environment    KARS_COSMOS_ENDPOINT, KARS_COSMOS_KEY (omit in Azure: DefaultAzureCredential signs in),
                 KARS_COSMOS_DATABASE (default kars), KARS_COSMOS_RECEIPTS_CONTAINER (default receipts),
                 KARS_AUDIT_CHAIN_PREFIX (default audit), KARS_AUDIT_CHAIN_COUNT (default 4)
  exit codes     0 intact, 1 broken (or the store could not be read), 2 usage or configuration error`;

interface StateFile {
  version: 1;
  heads: TrustedHead[];
}

export const auditVerifyCommand: CliCommand = {
  name: 'audit verify',
  summary: 'verify the audit receipt chains and their signed checkpoints',
  usage: USAGE,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const flags = parseFlags(args);
    const trustedKeys = trustedKeyMap(flags.publicKeys.map((k) => readPublicKey(k, io.cwd)));
    const layout = readLayout(flags, io.env);
    const statePath = flags.state !== undefined ? resolve(io.cwd, flags.state) : undefined;
    const trustedHeads = statePath ? readState(statePath) : [];
    const client = createCosmosClient(readConnection(flags, io.env), { requestTimeoutMs: 30_000 });
    try {
      const database = flags.database ?? io.env['KARS_COSMOS_DATABASE'] ?? 'kars';
      const containerId = flags.container ?? io.env['KARS_COSMOS_RECEIPTS_CONTAINER'] ?? RECEIPTS_CONTAINER.id;
      const store = createCosmosReceiptStore(client.database(database).container(containerId));
      const report = await verifyAuditLog(store, {
        trustedKeys, trustedHeads, layout, ...(flags.chains.length > 0 ? { chains: flags.chains } : {}),
      });
      if (flags.json) io.out(JSON.stringify(report));
      const broken = report.chains.filter((c) => c.break);
      for (const c of broken) {
        const b = c.break!;
        io.out(`BROKEN chain=${b.chain} seq=${b.seq} kind=${b.kind} (${b.detail})`);
      }
      if (flags.report) await report_({ verdict: broken.length > 0 ? 'broken' : 'intact', chains: report.chains.length, brokenChains: broken.length, receipts: report.receipts }, io);
      if (broken.length > 0) return 1;
      io.out(summary(report));
      if (statePath) writeState(statePath, report, trustedHeads);
      return 0;
    } catch (e) {
      if (isKarsError(e) && (e.code === 'STORE_NOT_FOUND' || e.code === 'STORE_UNAVAILABLE')) {
        io.err(`kars audit verify: cannot read the receipt store (${e.code}); no verdict`);
        if (flags.report) await report_({ verdict: 'unreadable', chains: 0, brokenChains: 0, receipts: 0 }, io);
        return 1;
      }
      throw e;
    } finally {
      client.dispose();
    }
  },
};

/** Sends the verdict; a failed send is reported on stderr and never changes the verdict's exit code. */
async function report_(report: AuditVerifyReport, io: CliIo): Promise<void> {
  const connection = io.env['APPLICATIONINSIGHTS_CONNECTION_STRING'];
  if (!connection) {
    io.err('kars audit verify: --report needs APPLICATIONINSIGHTS_CONNECTION_STRING; verdict not sent');
    return;
  }
  try {
    await sendAuditVerifyReport(connection, report, Date.now());
  } catch (e) {
    io.err(`kars audit verify: verdict not sent (${e instanceof Error ? e.message : 'error'})`);
  }
}

interface Flags {
  report: boolean;
  publicKeys: string[];
  chains: string[];
  endpoint?: string;
  key?: string;
  database?: string;
  container?: string;
  chainPrefix?: string;
  chainCount?: string;
  state?: string;
  json: boolean;
}

function parseFlags(args: readonly string[]): Flags {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        'public-key': { type: 'string', multiple: true },
        'chain': { type: 'string', multiple: true },
        'cosmos-endpoint': { type: 'string' },
        'cosmos-key': { type: 'string' },
        'cosmos-database': { type: 'string' },
        'cosmos-container': { type: 'string' },
        'chain-prefix': { type: 'string' },
        'chain-count': { type: 'string' },
        'state': { type: 'string' },
        'json': { type: 'boolean' },
        'report': { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw new CliUsageError(e instanceof Error ? e.message.split('\n')[0] ?? 'bad flags' : 'bad flags');
  }
  const publicKeys = values['public-key'] ?? [];
  if (publicKeys.length === 0) throw new CliUsageError('--public-key is required (the checkpoint signing public key)');
  const chains = values.chain ?? [];
  for (const chain of chains) {
    try {
      assertChainName(chain);
    } catch {
      throw new CliUsageError('--chain must be a chain name such as audit-00');
    }
  }
  const opt = <K extends keyof Flags>(k: K, v: Flags[K] | undefined): Partial<Flags> => (v !== undefined ? { [k]: v } : {});
  return {
    publicKeys, chains, json: values.json ?? false, report: values.report ?? false,
    ...opt('endpoint', values['cosmos-endpoint']), ...opt('key', values['cosmos-key']),
    ...opt('database', values['cosmos-database']), ...opt('container', values['cosmos-container']),
    ...opt('chainPrefix', values['chain-prefix']), ...opt('chainCount', values['chain-count']), ...opt('state', values.state),
  };
}

function readLayout(flags: Flags, env: CliIo['env']): ChainLayout {
  const prefix = flags.chainPrefix ?? env['KARS_AUDIT_CHAIN_PREFIX'] ?? DEFAULT_CHAIN_LAYOUT.prefix;
  const countText = flags.chainCount ?? env['KARS_AUDIT_CHAIN_COUNT'];
  const count = countText === undefined ? DEFAULT_CHAIN_LAYOUT.count : Number(countText);
  const layout = { prefix, count };
  try {
    assertChainLayout(layout);
  } catch {
    throw new CliUsageError('chain layout: --chain-prefix must be a lowercase name and --chain-count an integer in 1..1000');
  }
  return layout;
}

function readState(path: string): TrustedHead[] {
  if (!existsSync(path)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new CliUsageError('--state file is not JSON');
  }
  const heads = (parsed as Partial<StateFile> | null)?.heads;
  if ((parsed as Partial<StateFile> | null)?.version !== 1 || !Array.isArray(heads)) throw new CliUsageError('--state file has an unknown format');
  return heads.filter((h): h is TrustedHead =>
    typeof h === 'object' && h !== null && typeof h.chain === 'string' && Number.isSafeInteger(h.seq) && h.seq > 0 && isHex64(h.hash));
}

function writeState(path: string, report: AuditReport, previous: readonly TrustedHead[]): void {
  const heads = new Map(previous.map((h) => [h.chain, h]));
  for (const c of report.chains) if (c.tip) heads.set(c.chain, { chain: c.chain, seq: c.tip.seq, hash: c.tip.hash });
  const state: StateFile = { version: 1, heads: [...heads.values()].sort((a, b) => a.chain.localeCompare(b.chain)) };
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

function summary(report: AuditReport): string {
  const cp = report.lastCheckpoint;
  const last = cp ? `${cp.chain}@${cp.seq} ${new Date(cp.timeMs).toISOString()} key ${cp.keyId}` : 'none';
  return `OK ${report.receipts} receipts in ${report.chains.length} chains (${report.entries} entries), last checkpoint ${last}`;
}
