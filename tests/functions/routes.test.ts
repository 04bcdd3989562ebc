// The route table registers the edge's shutdown flush as an app terminate hook, and the lazy hook routes flush only a
// pipeline that exists (a shutdown before the first webhook builds nothing and touches no dependency).
import { describe, expect, it } from 'vitest';
import { createAppHooks } from '../../functions/app-hooks';
import { createLazyHookRoutes } from '../../functions/hooks/hook-routes';
import { buildAppRoutes, EDGE_SUMMARY_FLUSH_HOOK, routes } from '../../functions/routes';

describe('buildAppRoutes', () => {
  it('serves the same table as functions/routes.ts and registers the edge flush as a terminate hook', async () => {
    const hooks = createAppHooks();
    const names: string[] = [];
    const tracking = { ...hooks, onTerminate: (name: string, handler: () => Promise<void> | void) => { names.push(name); return hooks.onTerminate(name, handler); } };
    let built = 0;
    const table = buildAppRoutes({ health: async () => ({ probes: [], timeoutMs: 1000 }), hookDeps: async () => { built += 1; throw new Error('not built in this test'); }, rolloutClient: () => { throw new Error('unused'); } }, tracking);
    expect(table.map((r) => [r.name, r.route])).toEqual(routes.map((r) => [r.name, r.route]));
    expect(names).toEqual([EDGE_SUMMARY_FLUSH_HOOK]);
    // Shutdown before any webhook: nothing to flush, no dependency is built.
    await hooks.runTerminate();
    expect(built).toBe(0);
  });
});

describe('createLazyHookRoutes', () => {
  it('flushes nothing before the pipeline exists, and a failed build does not poison the next request', async () => {
    let attempts = 0;
    const lazy = createLazyHookRoutes(async () => { attempts += 1; throw new Error('cosmos down'); });
    await expect(lazy.flushRefusalSummaries()).resolves.toBeUndefined();
    expect(attempts).toBe(0);
    const receive = lazy.routes.find((r) => r.name === 'hooksReceive')!;
    await expect(receive.handler({} as never, {} as never)).rejects.toThrow('cosmos down');
    await expect(receive.handler({} as never, {} as never)).rejects.toThrow('cosmos down');
    expect(attempts).toBe(2);
  });
});
