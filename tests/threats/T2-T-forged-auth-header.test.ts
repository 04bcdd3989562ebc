// T2-T "agent injects forged auth header": the agent's credentials never reach the model endpoint.
// Defends: an agent that sends its own or a forged Authorization, api-key, x-api-key, cookie or proxy-authorization to the model endpoint through the router, or hopes to see the router's token.
// Every credential the agent sends (Authorization, api-key, x-api-key, cookie, proxy-authorization, APIM key) is
// dropped; the router authenticates with its own workload-identity token for the endpoint's audience, and the agent
// never sees a token. With the mitigation off (`strip-agent-credentials`) the forged values reach the endpoint and the
// agent's Authorization replaces the router's.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterStack, type RouterStack } from '../integration/router/router-stack';
import { Canaries } from './canary';

const canaries = new Canaries();
const forged = {
  authorization: `Bearer ${canaries.plant('forged bearer')}`,
  'api-key': canaries.plant('api-key'),
  'x-api-key': canaries.plant('x-api-key'),
  cookie: `session=${canaries.plant('cookie')}`,
  'proxy-authorization': `Basic ${canaries.plant('proxy-authorization')}`,
  'ocp-apim-subscription-key': canaries.plant('apim key'),
};

let on: RouterStack;
let off: RouterStack;

beforeAll(async () => {
  on = await startRouterStack();
  off = await startRouterStack({ identity: on.identity, _disable: ['strip-agent-credentials'] });
});
afterAll(async () => {
  await off?.stop();
  await on?.stop();
});

const call = (stack: RouterStack) => fetch(`${stack.url}/v1/chat/completions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...forged },
  body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'who am I' }] }),
});

const upstreamTexts = (stack: RouterStack) => stack.upstream!.requests().map((r, i) => [`upstream request ${i}`, JSON.stringify(r.headers)] as const);

describe('T2-T forged credentials from the agent', () => {
  it('ON: none of the forged credentials reaches the endpoint; it sees only the router token for its audience', async () => {
    const r = await call(on);
    expect(r.status).toBe(200);
    const body = await r.text();
    expect(canaries.scan(upstreamTexts(on))).toEqual([]);
    const seen = on.upstream!.requests().at(-1)!;
    for (const h of ['api-key', 'x-api-key', 'cookie', 'proxy-authorization', 'ocp-apim-subscription-key']) expect(seen.headers[h], h).toBeUndefined();
    const token = /^Bearer (.+)$/.exec(String(seen.headers.authorization))![1]!;
    const verified = await on.identity.verifyAccessToken(token, 'https://cognitiveservices.azure.com');
    expect(verified.ok).toBe(true);
    // The agent never sees a token: not in the answer, not in its headers.
    expect(body).not.toContain(token);
    expect(JSON.stringify([...r.headers])).not.toContain('eyJ');
    expect(on.logs.some((l) => l.fields.detail === 'agent_credentials_dropped=6')).toBe(true);
    // The router's log lines name how many credentials it dropped, never a value, and never its own token.
    const logText = JSON.stringify(on.logs);
    expect(canaries.scan([['router log', logText]])).toEqual([]);
    expect(logText).not.toContain(token.slice(0, 40));
  });

  it('ON: the unmodified openai client (which always sends its apiKey as a bearer) works, its key never travels', async () => {
    const key = canaries.plant('openai apiKey');
    const client = new OpenAI({ baseURL: `${on.url}/v1`, apiKey: key, maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    expect(r.choices[0]!.message.content).toBe('echo: x');
    expect(canaries.scan(upstreamTexts(on))).toEqual([]);
  });

  it('OFF: the forged credentials reach the endpoint and the forged bearer replaces the router token', async () => {
    const r = await call(off);
    await r.text();
    const labels = new Set(canaries.scan(upstreamTexts(off)).map((h) => h.label));
    for (const l of ['forged bearer', 'api-key', 'x-api-key', 'cookie', 'proxy-authorization', 'apim key']) expect(labels.has(l), l).toBe(true);
    expect(r.status).toBe(401); // the stand-in refuses the forged token: the agent chose the credential
  });
});
