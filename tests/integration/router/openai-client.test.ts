// The unmodified `openai` npm client pointed at a sandbox router works, streaming included: OpenAI form
// (`baseURL: <router>/v1`) and Azure form (`AzureOpenAI` → `/openai/deployments/{d}/…?api-version=`), for chat,
// embeddings and the Responses API. The router gets its token through the real @azure/identity workload-identity
// credential from the local identity server; the local model stand-in accepts only that token, never the agent's key.
import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterStack, type RouterStack } from './router-stack';

let stack: RouterStack;
const AGENT_KEY = 'sk-agent-supplied-key-that-must-not-travel';

beforeAll(async () => {
  stack = await startRouterStack();
});
afterAll(async () => {
  await stack?.stop();
});

const client = () => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 });

describe('openai client through the router', () => {
  it('chat completion (non-streaming)', async () => {
    const r = await client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello router' }] });
    expect(r.choices[0]!.message.content).toBe('echo: hello router');
    const last = stack.upstream!.requests().at(-1)!;
    expect(last.status).toBe(200);
    expect(last.path).toBe('/openai/v1/chat/completions');
    expect(String(last.headers.authorization)).not.toContain(AGENT_KEY);
  });

  it('chat completion streamed: chunks arrive and reassemble, usage included when asked', async () => {
    const stream = await client().chat.completions.create({
      model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one two three four' }], stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    let usage: unknown;
    for await (const c of stream) {
      chunks++;
      text += c.choices[0]?.delta?.content ?? '';
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe('echo: one two three four');
    expect(chunks).toBeGreaterThan(4);
    expect(usage).toMatchObject({ total_tokens: expect.any(Number) });
  });

  it('embeddings', async () => {
    const r = await client().embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(r.data).toHaveLength(2);
    expect(r.data[0]!.embedding).toHaveLength(8);
  });

  it('responses API, plain and streamed', async () => {
    const r = await client().responses.create({ model: 'gpt-4o-mini', input: 'respond please' });
    expect(r.output_text).toBe('echo: respond please');
    const s = await client().responses.create({ model: 'gpt-4o-mini', input: 'stream this', stream: true });
    let text = '';
    let completed = false;
    for await (const e of s) {
      if (e.type === 'response.output_text.delta') text += e.delta;
      if (e.type === 'response.completed') completed = true;
    }
    expect(text).toBe('echo: stream this');
    expect(completed).toBe(true);
  });

  it('Azure form through AzureOpenAI (api-key header dropped, router token used), streamed', async () => {
    const az = new AzureOpenAI({ endpoint: stack.url, apiKey: AGENT_KEY, apiVersion: '2024-10-21', deployment: 'gpt-4o-mini', maxRetries: 0 });
    const stream = await az.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'azure form' }], stream: true });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    expect(text).toBe('echo: azure form');
    const last = stack.upstream!.requests().at(-1)!;
    expect(last.path).toBe('/openai/deployments/gpt-4o-mini/chat/completions');
    expect(last.headers['api-key']).toBeUndefined();
    expect(String(last.headers.authorization)).toMatch(/^Bearer eyJ/);
  });

  it('a deployment outside the list is refused with a stable code before any upstream call', async () => {
    const before = stack.upstream!.requests().length;
    const e = await client().chat.completions.create({ model: 'gpt-5-secret', messages: [{ role: 'user', content: 'x' }] }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect((e as InstanceType<typeof OpenAI.APIError>).status).toBe(403);
    expect((e as InstanceType<typeof OpenAI.APIError>).code).toBe('ROUTER_DEPLOYMENT_NOT_ALLOWED');
    expect(stack.upstream!.requests().length).toBe(before);
  });
});
