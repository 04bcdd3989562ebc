// The local host's shutdown mirrors the Azure host's: running invocations settle first (bounded by shutdownGraceMs),
// then the app's terminate hooks run, once, whatever the number of close() calls.
import { describe, expect, it } from 'vitest';
import type { RouteDef } from '../../../../functions/route-def';
import { createAppHooks } from '../../../../functions/app-hooks';
import { startLocalHost } from '../../../../infra/local/host/local-host';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const keys = { functionKey: 'fk-terminate', masterKey: 'mk-terminate' };

function slowRoute(events: string[], ms: number): RouteDef {
  return {
    name: 'slow', methods: ['GET'], route: 'slow', authLevel: 'anonymous',
    handler: async () => {
      events.push('invocation started');
      await new Promise((r) => setTimeout(r, ms));
      events.push('invocation finished');
      return { status: 200, body: 'done' };
    },
  };
}

async function startedInvocation(url: string, events: string[]): Promise<void> {
  fetch(`${url}/api/slow`).catch(() => undefined);
  while (!events.includes('invocation started')) await new Promise((r) => setTimeout(r, 5));
}

describe('local host close(): terminate hooks', () => {
  it('lets a running invocation finish, then runs the hooks once', async () => {
    const events: string[] = [];
    const hooks = createAppHooks();
    hooks.onTerminate('record', () => { events.push('terminate hook'); });
    const host = await startLocalHost({ routes: [slowRoute(events, 150)], keys, logger: silent, port: 0, hooks });
    await startedInvocation(host.url, events);
    await Promise.all([host.close(), host.close()]);
    expect(events).toEqual(['invocation started', 'invocation finished', 'terminate hook']);
  });

  it('does not wait past shutdownGraceMs for an invocation that hangs', async () => {
    const events: string[] = [];
    const hooks = createAppHooks();
    hooks.onTerminate('record', () => { events.push('terminate hook'); });
    const host = await startLocalHost({ routes: [slowRoute(events, 3000)], keys, logger: silent, port: 0, hooks, shutdownGraceMs: 100 });
    await startedInvocation(host.url, events);
    const started = performance.now();
    await host.close();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(events).toEqual(['invocation started', 'terminate hook']);
  });
});
