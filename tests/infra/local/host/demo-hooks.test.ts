// The DEV-ONLY demo hooks, and the README's copy-paste examples (openssl + curl, and `kars webhook send`) run as
// written against the real local host with the demo hooks seeded.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_HOOK_SECRETS, DEMO_HOOKS, DEMO_STANDARD_KEY_HEX, DEMO_SANDBOX, seedDemoHooks } from '../../../../infra/local/host/demo-hooks';
import { runCli } from '../../../../cli/main';
import { startEdgeStack, type EdgeStack } from '../../../functions/hooks/edge-stack';

/** The README snippet, verbatim but for the base URL. */
export const README_CURL = `body='{"type":"kars.demo","timestamp":"2026-01-01T00:00:00Z","data":{"message":"hello"}}'
id="msg_$(date +%s%N)"; ts=$(date +%s)
sig=$(printf '%s.%s.%s' "$id" "$ts" "$body" | openssl dgst -sha256 -mac HMAC -macopt hexkey:${DEMO_STANDARD_KEY_HEX} -binary | base64)
curl -sS -X POST "$KARS_URL/api/hooks/standard/hk-demo-standard" \\
  -H 'content-type: application/json' -H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" \\
  --data-binary "$body"`;

describe('demo hooks (local mode)', () => {
  let stack: EdgeStack;
  beforeAll(async () => {
    stack = await startEdgeStack();
  });
  afterAll(() => stack?.close());

  it('seeds once (idempotent) and never in azure mode', async () => {
    expect(await seedDemoHooks(stack.registry, { mode: 'local' })).toEqual(DEMO_HOOKS.map((h) => h.hookId));
    expect(await seedDemoHooks(stack.registry, { mode: 'local' })).toEqual([]);
    await expect(seedDemoHooks(stack.registry, { mode: 'azure' })).rejects.toThrow(/DEV-ONLY/);
    expect(Buffer.from(DEMO_HOOK_SECRETS['hk-demo-standard'].slice(6), 'base64').toString('hex')).toBe(DEMO_STANDARD_KEY_HEX);
  });

  it('the README openssl + curl example answers 202 with a receipt id and reaches the demo sandbox', async () => {
    // Asynchronous: the host answering curl runs on this very event loop.
    const { stdout } = await promisify(execFile)('bash', ['-c', README_CURL], { env: { ...process.env, KARS_URL: stack.url }, encoding: 'utf8', timeout: 20_000 });
    expect(JSON.parse(stdout)).toEqual({ receiptId: expect.any(String) });
  });

  it('the README `kars webhook send` examples work for every demo hook', async () => {
    for (const [hookId, secret] of Object.entries(DEMO_HOOK_SECRETS)) {
      const channel = hookId.replace('hk-demo-', '');
      const out: string[] = [];
      const code = await runCli(['webhook', 'send', '--url', stack.url, '--channel', channel, '--hook', hookId, '--secret-env', 'KARS_DEMO_SECRET'],
        { out: (l) => out.push(l), err: (l) => out.push(l), env: { KARS_DEMO_SECRET: secret }, cwd: process.cwd() });
      expect(code, `${hookId}: ${out.join(' ')}`).toBe(0);
    }
    const delivered = await stack.drain(DEMO_SANDBOX);
    // standard (curl + CLI) and teams are enqueued; github ping and slack url_verification are answered by the edge.
    expect(delivered.map((d) => d.channel).sort()).toEqual(['standard', 'standard', 'teams']);
  });
});
