// The router's model calls through the egress module's pinned TLS agent (what main.ts wires): the local stand-in,
// addressed by its DNS name, answers through it; a certificate chain without the configured SPKI pin, or an endpoint
// the agent is not pinned to, fails with the agent's stable code (502) and nothing reaches the endpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSpkiPins } from '../../../core/router/upstream/spki-pins';
import { startIdentityServer, type IdentityServer } from '../../../infra/local/identity/identity-server';
import { startModelUpstream, type ModelUpstream } from '../../../infra/local/model-upstream/model-upstream-server';
import { createUpstreamAgent } from '../../../sandbox-node/router/egress/upstream-agent';
import { startRouterStack, type RouterStack } from './router-stack';
import { chatBody } from './test-upstream';

let identity: IdentityServer;
let model: ModelUpstream;
const stacks: RouterStack[] = [];

beforeAll(async () => {
  identity = await startIdentityServer();
  model = await startModelUpstream({ verifyAccessToken: identity.verifyAccessToken });
});
afterAll(async () => {
  for (const s of stacks) await s.stop();
  await model?.stop();
  await identity?.stop();
});

async function callThrough(agent: ReturnType<typeof createUpstreamAgent>): Promise<{ status: number; code?: string }> {
  const s = await startRouterStack({ identity, upstreamUrl: `https://localhost:${model.port}`, upstreamAgent: agent });
  stacks.push(s);
  const r = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody() });
  const body = (await r.json()) as { code?: string };
  return { status: r.status, ...(body.code ? { code: body.code } : {}) };
}

describe('router → model endpoint through the pinned TLS agent', () => {
  it('the configured endpoint answers (dev CA via NODE_EXTRA_CA_CERTS, name checked)', async () => {
    expect(await callThrough(createUpstreamAgent({ endpoints: [{ host: 'localhost', port: model.port }] }))).toEqual({ status: 200 });
  });

  it('a chain without the configured pin, or an unpinned endpoint, is refused before anything is sent', async () => {
    const before = model.requests().length;
    const wrongPin = createUpstreamAgent({ endpoints: [{ host: 'localhost', port: model.port }], spkiPins: parseSpkiPins([Buffer.alloc(32, 1).toString('base64')]) });
    expect(await callThrough(wrongPin)).toEqual({ status: 502, code: 'UPSTREAM_PIN_MISMATCH' });
    const otherEndpoint = createUpstreamAgent({ endpoints: [{ host: 'myres.openai.azure.com' }] });
    expect(await callThrough(otherEndpoint)).toEqual({ status: 502, code: 'UPSTREAM_HOST_NOT_PINNED' });
    expect(model.requests().length).toBe(before);
  });
});
