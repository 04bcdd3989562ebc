// `kars audit prove <receiptId>`: prints a receipt, its inclusion proof and the entry links to a signed checkpoint, and
// verifies them offline against the trusted public key (the store is only read to build the proof). With --proof it
// checks a saved proof without any store.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createCosmosClient } from '../../adapters/cosmos/cosmos-client';
import { RECEIPTS_CONTAINER } from '../../adapters/cosmos/cosmos-containers';
import { createCosmosReceiptStore } from '../../adapters/cosmos/cosmos-receipt-store';
import { trustedKeyMap } from '../../core/audit/checkpoint';
import { buildReceiptProof, verifyReceiptProof } from '../../core/audit/prove-receipt';
import type { ReceiptProof } from '../../core/audit/prove-receipt';
import { isKarsError } from '../../core/errors';
import type { CliCommand, CliIo } from '../command';
import { CliUsageError } from '../command';
import { readConnection, readPublicKey } from './audit-store-flags';

const USAGE = `usage: kars audit prove <receiptId> --public-key <file|base64> [--public-key ...] [--out <file>] [--json]
       [--cosmos-endpoint <url>] [--cosmos-key <key>] [--cosmos-database <db>] [--cosmos-container <name>]
       kars audit prove --proof <file> --public-key <file|base64>
  <receiptId>    <chain>:<entry seq, 12 digits>:<leaf index, 3 digits> (what the edge answers); a receipt written
                 before batching has no leaf index
  --public-key   trusted checkpoint key (repeat for rotation); the proof must end at a checkpoint signed by one
  --out          also write the proof (JSON) to this file, to be checked later with --proof
  --proof        check a saved proof offline: no store is read
  environment    KARS_COSMOS_ENDPOINT, KARS_COSMOS_KEY, KARS_COSMOS_DATABASE, KARS_COSMOS_RECEIPTS_CONTAINER
  exit codes     0 verified, 1 not verified (or no checkpoint covers the receipt yet), 2 usage or configuration error`;

export const auditProveCommand: CliCommand = {
  name: 'audit prove',
  summary: 'print a receipt with its inclusion proof and verify it offline against a signed checkpoint',
  usage: USAGE,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const flags = parseFlags(args);
    const trustedKeys = trustedKeyMap(flags.publicKeys.map((k) => readPublicKey(k, io.cwd)));
    let proof: ReceiptProof;
    if (flags.proof !== undefined) {
      try {
        proof = JSON.parse(readFileSync(resolve(io.cwd, flags.proof), 'utf8')) as ReceiptProof;
      } catch {
        throw new CliUsageError('--proof is not a readable JSON file');
      }
    } else {
      const client = createCosmosClient(readConnection(flags, io.env), { requestTimeoutMs: 30_000 });
      try {
        const database = flags.database ?? io.env['KARS_COSMOS_DATABASE'] ?? 'kars';
        const containerId = flags.container ?? io.env['KARS_COSMOS_RECEIPTS_CONTAINER'] ?? RECEIPTS_CONTAINER.id;
        const store = createCosmosReceiptStore(client.database(database).container(containerId));
        const built = await buildReceiptProof(store, flags.receiptId!, trustedKeys);
        if (!built.found) {
          io.out(`NOT PROVEN ${flags.receiptId!} (${built.reason}: ${built.detail})`);
          return built.reason === 'malformed-id' ? 2 : 1;
        }
        proof = built.proof;
      } catch (e) {
        if (isKarsError(e) && (e.code === 'STORE_NOT_FOUND' || e.code === 'STORE_UNAVAILABLE')) {
          io.err(`kars audit prove: cannot read the receipt store (${e.code}); no verdict`);
          return 1;
        }
        throw e;
      } finally {
        client.dispose();
      }
      if (flags.out !== undefined) writeFileSync(resolve(io.cwd, flags.out), `${JSON.stringify(proof, null, 2)}\n`);
    }
    // Verified from the proof alone, exactly as anyone holding it and the public key would.
    const verdict = verifyReceiptProof(proof, trustedKeys);
    if (flags.json) io.out(JSON.stringify({ proof, verdict }));
    else {
      io.out(`receipt ${String(proof.receiptId)} ${verdict.ok ? JSON.stringify(verdict.receipt) : String(proof.leaf ?? '(one-receipt entry)')}`);
      io.out(`inclusion proof (leaf ${String(proof.index ?? 0)} of ${String(proof.entries?.[0] && 'size' in proof.entries[0] ? proof.entries[0].size : 1)}): ${JSON.stringify(proof.inclusion)}`);
      io.out(`entry links to the checkpoint: ${Array.isArray(proof.entries) ? proof.entries.length : 0}`);
    }
    if (!verdict.ok) {
      io.out(`NOT VERIFIED ${String(proof.receiptId)} (${verdict.reason})`);
      return 1;
    }
    io.out(`VERIFIED ${proof.receiptId} in ${verdict.chain}@${verdict.seq}, leaf ${verdict.index ?? 0} of ${verdict.size}; ` +
      `checkpoint ${verdict.chain}@${verdict.checkpoint.seq} ${new Date(verdict.checkpoint.timeMs).toISOString()} key ${verdict.checkpoint.keyId}`);
    return 0;
  },
};

interface Flags {
  receiptId?: string;
  publicKeys: string[];
  proof?: string;
  out?: string;
  endpoint?: string;
  key?: string;
  database?: string;
  container?: string;
  json: boolean;
}

function parseFlags(args: readonly string[]): Flags {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: true,
      options: {
        'public-key': { type: 'string', multiple: true },
        'proof': { type: 'string' },
        'out': { type: 'string' },
        'cosmos-endpoint': { type: 'string' },
        'cosmos-key': { type: 'string' },
        'cosmos-database': { type: 'string' },
        'cosmos-container': { type: 'string' },
        'json': { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw new CliUsageError(e instanceof Error ? e.message.split('\n')[0] ?? 'bad flags' : 'bad flags');
  }
  const publicKeys = values['public-key'] ?? [];
  if (publicKeys.length === 0) throw new CliUsageError('--public-key is required (the checkpoint signing public key)');
  if ((positionals.length === 1) === (values.proof !== undefined) || positionals.length > 1) {
    throw new CliUsageError('give exactly one receipt id, or --proof <file>');
  }
  const opt = <K extends keyof Flags>(k: K, v: Flags[K] | undefined): Partial<Flags> => (v !== undefined ? { [k]: v } : {});
  return {
    publicKeys, json: values.json ?? false, ...opt('receiptId', positionals[0]), ...opt('proof', values.proof), ...opt('out', values.out),
    ...opt('endpoint', values['cosmos-endpoint']), ...opt('key', values['cosmos-key']),
    ...opt('database', values['cosmos-database']), ...opt('container', values['cosmos-container']),
  };
}
