// One CONNECT proxy per test over the stand-in internet (tests/support/egress-net.ts), with its audit and breakers.
import { CircuitBreakerSet, TOOL_BREAKER_DEFAULTS } from '../../core/limits/circuit-breaker-set';
import type { CircuitBreakerConfig } from '../../core/limits/circuit-breaker';
import { silentLogger } from '../../core/ports/logger.port';
import { parseEgressAllowlist } from '../../core/router/egress/egress-allowlist';
import type { EgressMitigation } from '../../core/router/egress/egress-types';
import { createConnectHandler, type ConnectHandler, type ConnectProxyOptions } from '../../sandbox-node/router/egress/connect-proxy';
import { settableClock, type SettableClock } from '../core/edge/edge-fixture';
import { MemoryEgressAudit, natDialer, ScriptedResolver, startProxy } from './egress-net';

export interface EgressFixture {
  port: number;
  handler: ConnectHandler;
  audit: MemoryEgressAudit;
  resolver: ScriptedResolver;
  dial: ReturnType<typeof natDialer>;
  breakers: CircuitBreakerSet;
  clock: SettableClock;
  close: () => Promise<void>;
}

export interface EgressFixtureOptions {
  /** `host:port` entries; undefined = no allowlist configured. */
  allowlist?: string[];
  names?: Record<string, ReadonlyArray<readonly string[]>>;
  /** `address:port` of the stand-in internet → loopback port. */
  routes?: Map<string, number>;
  disable?: EgressMitigation[];
  breaker?: CircuitBreakerConfig;
  proxy?: Partial<ConnectProxyOptions>;
}

export async function startEgressFixture(o: EgressFixtureOptions): Promise<EgressFixture> {
  const clock = settableClock();
  const audit = new MemoryEgressAudit();
  const resolver = new ScriptedResolver(o.names ?? {});
  const dial = natDialer(o.routes ?? new Map());
  const breakers = new CircuitBreakerSet(clock, o.breaker ?? TOOL_BREAKER_DEFAULTS);
  const handler = createConnectHandler(
    { resolver, audit, breakers, clock, logger: silentLogger, dial },
    { sandboxId: 'sbx-egress', allowlist: o.allowlist ? parseEgressAllowlist(o.allowlist) : undefined, ...o.proxy, _disable: o.disable ?? [] },
  );
  const proxy = await startProxy(handler);
  return { port: proxy.port, handler, audit, resolver, dial, breakers, clock, close: proxy.close };
}
