// `kars audit verify` and `kars audit prove`: flag handling, offline proofs and failure modes, run in-process through the
// same dispatch as bin/kars.js.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCosmosClient } from '../../../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers, RECEIPTS_CONTAINER } from '../../../adapters/cosmos/cosmos-containers';
import { createCosmosReceiptStore } from '../../../adapters/cosmos/cosmos-receipt-store';
import { createMemorySecretSource } from '../../../adapters/memory/memory-secrets';
import { COMMANDS, runCli } from '../../../cli/main';
import type { CliIo } from '../../../cli/command';
import { ReceiptAppender } from '../../../core/audit/append-receipt';
import { createSecretCheckpointSigner } from '../../../core/audit/checkpoint-signer';
import { redact } from '../../../core/secrets/redacted';
import { startCosmosServer } from '../../../infra/local/cosmos/start-cosmos-server';
import type { LocalCosmosServer } from '../../../infra/local/cosmos/start-cosmos-server';
import { input, newKey, testClock } from '../../core/audit/audit-fixture';

const key = newKey();
const dir = mkdtempSync(join(tmpdir(), 'kars-cli-'));
let server: LocalCosmosServer;
/** Five receipts written as one entry (leaf 0..4), covered by an on-demand checkpoint. */
let batchIds: string[] = [];
/** A receipt written after the last checkpoint of its chain (the unsigned window). */
let lateId = '';

beforeAll(async () => {
  server = await startCosmosServer();
  const client = createCosmosClient({ endpoint: server.endpoint, key: redact(server.key) });
  const container = (await ensureCosmosContainers(client, 'kars', [RECEIPTS_CONTAINER])).get(RECEIPTS_CONTAINER.id)!;
  const clock = testClock();
  const appender = new ReceiptAppender(createCosmosReceiptStore(container), {
    clock, checkpointEvery: 2,
    signer: createSecretCheckpointSigner(createMemorySecretSource({ k: key.secret }), { secretName: 'k', clock }),
  });
  for (let i = 0; i < 12; i += 1) await appender.append(input(i, `tenant-${i}`));
  batchIds = (await Promise.all([0, 1, 2, 3, 4].map((n) => appender.appendToChain('audit-00', input(100 + n))))).map((r) => r.id);
  await appender.checkpoint('audit-00');
  await appender.whenIdle();
  const unsigned = new ReceiptAppender(createCosmosReceiptStore(container), { clock });
  lateId = (await unsigned.appendToChain('audit-00', input(200))).id;
  client.dispose();
});
afterAll(async () => {
  await server?.stop();
});

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (l) => out.push(l), err: (l) => err.push(l), cwd: dir,
    env: { KARS_COSMOS_ENDPOINT: server.endpoint, KARS_COSMOS_KEY: server.key, ...env },
  };
  const code = await runCli(argv, io);
  return { code, out, err };
}

describe('kars CLI dispatch', () => {
  it('lists commands, shows per-command usage, and refuses unknown commands with exit 2', async () => {
    const help = await run([]);
    expect(help.code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(help.out.join('\n')).toContain(name);
    const usage = await run(['audit', 'verify', '--help']);
    expect(usage.code).toBe(0);
    expect(usage.out.join('\n')).toContain('--public-key');
    const unknown = await run(['audit', 'destroy']);
    expect(unknown.code).toBe(2);
    expect(unknown.err[0]).toContain('unknown command');
    expect((await run(['constructor'])).code).toBe(2);
  });
});

describe('kars audit verify', () => {
  it('accepts the public key as a PEM file, a base64 file, a raw 32-byte file or base64 text', async () => {
    const pem = join(dir, 'k.pem');
    const b64 = join(dir, 'k.b64');
    const raw = join(dir, 'k.raw');
    writeFileSync(pem, key.publicKey.export({ format: 'pem', type: 'spki' }) as string);
    writeFileSync(b64, `${key.publicBase64}\n`);
    writeFileSync(raw, Buffer.from(key.publicBase64, 'base64'));
    for (const arg of ['k.pem', b64, raw, key.publicBase64]) {
      const r = await run(['audit', 'verify', '--public-key', arg]);
      expect(r.out.at(-1)).toMatch(/^OK 18 receipts in 4 chains \(14 entries\), last checkpoint audit-0\d@\d+ /);
      expect(r.code).toBe(0);
    }
  });

  it('verifies a single chain with --chain and prints the JSON report with --json', async () => {
    const r = await run(['audit', 'verify', '--public-key', key.publicBase64, '--chain', 'audit-02', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out[0] as string) as { chains: { chain: string }[] };
    expect(report.chains.map((c) => c.chain)).toEqual(['audit-02']);
    expect(r.out[1]).toMatch(/^OK \d+ receipts in 1 chains/);
  });

  it('reports checkpoints by an untrusted key as BROKEN (the verifier trusts only the keys it is given)', async () => {
    const r = await run(['audit', 'verify', '--public-key', newKey().publicBase64]);
    expect(r.code).toBe(1);
    expect(r.out.every((l) => / kind=unknown-key /.test(l))).toBe(true);
  });

  it('writes the state file only after a clean run', async () => {
    const state = join(dir, 'state.json');
    expect((await run(['audit', 'verify', '--public-key', key.publicBase64, '--state', state])).code).toBe(0);
    const saved = JSON.parse(readFileSync(state, 'utf8')) as { version: number; heads: { chain: string; seq: number }[] };
    expect(saved.version).toBe(1);
    expect(saved.heads.reduce((n, h) => n + h.seq, 0)).toBe(14);
  });

  it.each([
    [['audit', 'verify'], '--public-key is required'],
    [['audit', 'verify', '--public-key', 'bm90LWEta2V5'], 'neither a readable key file'],
    [['audit', 'verify', '--public-key', key.publicBase64, '--chain', 'Bad Chain'], '--chain must be'],
    [['audit', 'verify', '--public-key', key.publicBase64, '--chain-count', '0'], 'chain layout'],
    [['audit', 'verify', '--public-key', key.publicBase64, '--bogus'], 'Unknown option'],
  ])('exits 2 on bad flags: %j', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toContain(message);
  });

  it('exits 2 without an endpoint and 1 (no verdict) when the store cannot be read, never printing the key', async () => {
    const noEndpoint = await run(['audit', 'verify', '--public-key', key.publicBase64], { KARS_COSMOS_ENDPOINT: '' });
    expect(noEndpoint.code).toBe(2);
    const dead = await startCosmosServer();
    await dead.stop();
    const down = await run(['audit', 'verify', '--public-key', key.publicBase64], { KARS_COSMOS_ENDPOINT: dead.endpoint });
    expect(down.code).toBe(1);
    expect(down.err.join('\n')).toContain('cannot read the receipt store (STORE_UNAVAILABLE)');
    expect(down.out).toEqual([]);
    const missingDb = await run(['audit', 'verify', '--public-key', key.publicBase64, '--cosmos-database', 'nope']);
    expect(missingDb.code).toBe(1);
    expect(missingDb.err.join('\n')).toContain('cannot read the receipt store (STORE_NOT_FOUND)');
    for (const r of [noEndpoint, down, missingDb]) expect([...r.out, ...r.err].join('\n')).not.toContain(server.key);
  });
});

describe('kars audit prove', () => {
  it('prints a batched receipt with its inclusion proof and verifies it against the signed checkpoint', async () => {
    expect(new Set(batchIds.map((id) => id.slice(0, -4))).size).toBe(1); // one entry
    const out = join(dir, 'proof.json');
    const r = await run(['audit', 'prove', batchIds[3]!, '--public-key', key.publicBase64, '--out', out]);
    expect(r.err).toEqual([]);
    expect(r.out[0]).toContain(`receipt ${batchIds[3]!} {`);
    expect(r.out[0]).toContain('"n":103');
    expect(r.out[1]).toMatch(/^inclusion proof \(leaf 3 of 5\): \["[0-9a-f]{64}","[0-9a-f]{64}","[0-9a-f]{64}"\]$/);
    expect(r.out.at(-1)).toMatch(new RegExp(`^VERIFIED ${batchIds[3]!} in audit-00@\\d+, leaf 3 of 5; checkpoint audit-00@\\d+ \\S+ key ${'[0-9a-f]'}{16}$`));
    expect(r.code).toBe(0);

    // Offline: the saved proof and the public key alone, no store (no endpoint at all).
    const offline = await run(['audit', 'prove', '--proof', out, '--public-key', key.publicBase64], { KARS_COSMOS_ENDPOINT: '' });
    expect(offline.out.at(-1)).toMatch(/^VERIFIED /);
    expect(offline.code).toBe(0);

    // A proof edited after the fact, or checked against another key, does not verify.
    const proof = JSON.parse(readFileSync(out, 'utf8')) as { leaf: string };
    const edited = join(dir, 'edited.json');
    writeFileSync(edited, JSON.stringify({ ...proof, leaf: proof.leaf.replace('"outcome":"', '"outcome":"x') }));
    const bad = await run(['audit', 'prove', '--proof', edited, '--public-key', key.publicBase64]);
    expect(bad.out.at(-1)).toMatch(/^NOT VERIFIED .*inclusion proof does not lead to the entry's tree head/);
    expect(bad.code).toBe(1);
    const otherKey = await run(['audit', 'prove', '--proof', out, '--public-key', newKey().publicBase64]);
    expect(otherKey.out.at(-1)).toMatch(/^NOT VERIFIED .*does not verify under a trusted key/);
    expect(otherKey.code).toBe(1);
  });

  it('proves a one-receipt entry through the entry links to a later checkpoint', async () => {
    const r = await run(['audit', 'prove', batchIds[0]!.replace(/:\d{12}:000$/, ':000000000001:000'), '--public-key', key.publicBase64]);
    expect(r.out.at(-1)).toMatch(/^VERIFIED audit-00:000000000001:000 in audit-00@1, leaf 0 of 1; checkpoint audit-00@\d+ /);
    expect(r.code).toBe(0);
  });

  it('says so when no checkpoint covers the receipt yet, and exits 2 on a malformed id', async () => {
    const late = await run(['audit', 'prove', lateId, '--public-key', key.publicBase64]);
    expect(late.out).toEqual([`NOT PROVEN ${lateId} (not-checkpointed: no trusted checkpoint covers entry ${Number(lateId.split(':')[1])} of audit-00 yet)`]);
    expect(late.code).toBe(1);
    expect((await run(['audit', 'prove', 'audit-00:7', '--public-key', key.publicBase64])).code).toBe(2);
    expect((await run(['audit', 'prove', '--public-key', key.publicBase64])).code).toBe(2);
  });
});
