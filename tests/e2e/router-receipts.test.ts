// `npm start` end to end (T2-R, T3-R): calls through both demo routers become receipts in the signed chain, shipped by
// each router to the local Functions host with its own sandbox's token; `kars audit verify` (the CLI) passes.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { createCosmosClient } from '../../adapters/cosmos/cosmos-client';
import { RECEIPTS_CONTAINER } from '../../adapters/cosmos/cosmos-containers';
import { createCosmosReceiptStore } from '../../adapters/cosmos/cosmos-receipt-store';
import { redact } from '../../core/secrets/redacted';
import { freePortEnv, START, startStackProcess, stopStackProcess, type StackProcess } from './support/local-stack-process';

const dataDir = mkdtempSync(join(tmpdir(), 'kars-e2e-router-receipts-'));
let stack: StackProcess | undefined;
afterAll(async () => { if (stack) await stopStackProcess(stack); });

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/kars.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm start: router receipts reach the signed chain', () => {
  it('is built', () => { expect(existsSync(START)).toBe(true); });

  it('a chat call through each demo router lands as a router.model receipt of its sandbox; the CLI verifies', async () => {
    stack = await startStackProcess(freePortEnv(dataDir));
    const ready = stack.output.find((l) => l.includes('kars local stack ready'))!;
    const routers = Object.fromEntries([...ready.matchAll(/ (demo-sandbox[\w-]*)=(http:\/\/127\.0\.0\.1:\d+)/g)].map((m) => [m[1]!, m[2]!]));
    for (const sandbox of ['demo-sandbox', 'demo-sandbox-b']) {
      const openai = new OpenAI({ baseURL: `${routers[sandbox]}/v1`, apiKey: 'unused-by-the-router', maxRetries: 0 });
      const r = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `hello from ${sandbox}` }] });
      expect(r.choices[0]?.message.content).toBe(`echo: hello from ${sandbox}`);
    }
    const client = createCosmosClient({ endpoint: `http://127.0.0.1:${stack.ports.cosmos}`, key: redact('dev') });
    try {
      const store = createCosmosReceiptStore(client.database('kars').container(RECEIPTS_CONTAINER.id));
      const bySandbox = new Map<string, string[]>();
      const end = Date.now() + 30_000;
      while (Date.now() < end && !(bySandbox.get('demo-sandbox')?.length && bySandbox.get('demo-sandbox-b')?.length)) {
        bySandbox.clear();
        try {
          for (const chain of await store.listChains()) {
            for await (const record of store.listEntries(chain)) {
              for (const leaf of (record.body['receipts'] as string[]).map((x) => JSON.parse(x) as { kind: string; subject: string })) {
                if (leaf.kind === 'router.model') bySandbox.set(leaf.subject, [...(bySandbox.get(leaf.subject) ?? []), leaf.kind]);
              }
            }
          }
        } catch (e) {
          // The receipts container appears with the app's first append.
          if ((e as { code?: string }).code !== 'STORE_NOT_FOUND') throw e;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(bySandbox.get('demo-sandbox')).toEqual(['router.model']);
      expect(bySandbox.get('demo-sandbox-b')).toEqual(['router.model']);
    } finally {
      client.dispose();
    }
    const verify = await runCli(['audit', 'verify', '--public-key', join(dataDir, 'audit-public-key.pem'), '--json'], {
      KARS_COSMOS_ENDPOINT: `http://127.0.0.1:${stack.ports.cosmos}`, KARS_COSMOS_KEY: 'dev',
    });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect((JSON.parse(verify.stdout.split('\n').find((l) => l.startsWith('{'))!) as { ok: boolean }).ok).toBe(true);
    expect(await stopStackProcess(stack)).toBe(0);
    stack = undefined;
  }, 240_000);
});
