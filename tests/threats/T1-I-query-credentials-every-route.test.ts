// T1-I "API key in URL leaks via logs", every route: the app itself (functions/http/guard-routes.ts, whatever host
// Defends: query-credentials
// serves the table) refuses a credential in the query string with 400 HTTP_QUERY_CREDENTIAL on each route of
// functions/routes.ts, read from the table so a new route is covered without touching this file. The Azure Functions
// host reads a function key from `?code=`; the app refuses it before any handler runs. OFF (`_disable`: the route
// guard and the edge's own step) the same requests reach their handlers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../functions/routes';
import { isOperatorRoute } from '../../functions/http/guard-routes';
import { samplePath, startAppRouteStack, type AppRouteStack } from '../functions/app-route-stack';
import { Canaries } from './canary';

/** Names the Functions host, SAS URLs and common APIs use for credentials. */
const CREDENTIAL_QUERIES: ReadonlyArray<(v: string) => string> = [
  (v) => `?code=${v}`,
  (v) => `?sv=2024-11-04&se=2030-01-01T00%3A00%3A00Z&sig=${v}`,
  (v) => `?access_token=${v}`,
  (v) => `?api-key=${v}`,
  (v) => `?x=1&token=${v}`,
  (v) => `?key=${v}`,
];

async function call(stack: AppRouteStack, route: (typeof routes)[number], query: string): Promise<{ status: number; text: string }> {
  const method = route.methods[0]!;
  const res = await fetch(`${stack.url}${samplePath(route.route)}${query}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-functions-key': stack.masterKey },
    ...(method === 'GET' || method === 'HEAD' ? {} : { body: '{}' }),
  });
  return { status: res.status, text: await res.text() };
}

describe('T1-I a credential in the query string, on every route of the table', () => {
  let on: AppRouteStack;
  let off: AppRouteStack;
  beforeAll(async () => {
    // Operator auth is not what this file tests: local mode without Entra settings (the local host's key check).
    [on, off] = await Promise.all([
      startAppRouteStack({ guard: { operatorAuthenticator: () => undefined } }),
      startAppRouteStack({ guard: { operatorAuthenticator: () => undefined, _disable: ['query-credentials'] }, pipelineOptions: { _disable: ['query-credentials'] } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([on?.close(), off?.close()]);
  });

  it('covers the production table: every route, operator and anonymous', () => {
    expect(on.table.map((r) => r.name)).toEqual(routes.map((r) => r.name));
    expect(routes.some(isOperatorRoute)).toBe(true);
    expect(routes.some((r) => !isOperatorRoute(r))).toBe(true);
  });

  it.each(routes.map((r) => [r.name, r] as const))('ON %s: 400 HTTP_QUERY_CREDENTIAL for each credential query; the value is nowhere', async (_name, route) => {
    const canaries = new Canaries();
    const answers: Array<[string, string]> = [];
    for (const q of CREDENTIAL_QUERIES) {
      const query = q(canaries.plant(`${route.name} ${q('')}`));
      const r = await call(on, route, query);
      expect({ query, status: r.status, code: (JSON.parse(r.text) as { code?: string }).code }).toEqual({ query, status: 400, code: 'HTTP_QUERY_CREDENTIAL' });
      answers.push([`response ${route.name}`, r.text]);
    }
    expect(canaries.scan([...on.logs.map((l) => ['log', l] as [string, string]), ...answers])).toEqual([]);
  });

  it('ON: a query without a credential is not refused (rollout status ?history=true)', async () => {
    const status = routes.find((r) => r.name === 'rolloutStatus')!;
    const r = await call(on, status, '?history=true');
    expect(JSON.parse(r.text)).toMatchObject({ code: 'ORCHESTRATION_NOT_FOUND' });
  });

  it.each(routes.map((r) => [r.name, r] as const))('OFF %s: the request with the URL credential reaches its handler', async (_name, route) => {
    for (const q of CREDENTIAL_QUERIES) {
      const r = await call(off, route, q('not-a-real-credential'));
      expect(r.text, q('')).not.toContain('HTTP_QUERY_CREDENTIAL');
    }
  });
});
