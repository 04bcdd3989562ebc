// Streams pass through as they arrive: the agent holds the first SSE event while the upstream still withholds the
// rest (nothing is buffered until the end), with the body redactor in the path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdentityServer, type IdentityServer } from '../../../infra/local/identity/identity-server';
import { startRouterStack, type RouterStack } from './router-stack';
import { chatBody, startTestUpstream, type TestUpstream } from './test-upstream';

let identity: IdentityServer;
let upstream: TestUpstream;
let stack: RouterStack;
let release: () => void = () => undefined;

beforeAll(async () => {
  identity = await startIdentityServer();
  upstream = await startTestUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: {"choices":[{"delta":{"content":"first"}}]}\n\n');
    await new Promise<void>((r) => (release = r));
    res.end('data: {"choices":[{"delta":{"content":"second"}}]}\n\ndata: [DONE]\n\n');
  });
  stack = await startRouterStack({ identity, upstreamUrl: upstream.url });
});
afterAll(async () => {
  release();
  await stack?.stop();
  await upstream?.stop();
  await identity?.stop();
});

describe('SSE pass-through', () => {
  it('delivers the first event before the upstream has sent the second', async () => {
    const r = await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody() });
    expect(r.headers.get('content-type')).toBe('text/event-stream');
    const reader = r.body!.getReader();
    const first = Buffer.from((await reader.read()).value!).toString();
    expect(first).toBe('data: {"choices":[{"delta":{"content":"first"}}]}\n\n');
    release();
    let rest = '';
    for (let c = await reader.read(); !c.done; c = await reader.read()) rest += Buffer.from(c.value).toString();
    expect(rest).toBe('data: {"choices":[{"delta":{"content":"second"}}]}\n\ndata: [DONE]\n\n');
  });
});
