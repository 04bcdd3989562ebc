// HTTPS_PROXY-compatible CONNECT handler for agent tool traffic (T3-S, T2-I, T2-D): mounts on the router's
// node:http server (`server.on('connect', handler)`). Each tunnel: allowlist check on the exact name and port, one
// lookup through the resolver port, every answer checked, the socket dialled to the checked address (never the name
// again), a breaker per tool host, a cap on concurrent tunnels and an idle timeout. Every refusal is audited.
import type { IncomingMessage } from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { httpStatusOf } from '../../../core/errors';
import type { CircuitBreakerSet } from '../../../core/limits/circuit-breaker-set';
import type { Clock } from '../../../core/ports/clock.port';
import type { EgressAudit } from '../../../core/ports/egress-audit.port';
import type { Logger } from '../../../core/ports/logger.port';
import type { NameResolver } from '../../../core/ports/name-resolver.port';
import { auditableTarget } from '../../../core/router/egress/connect-target';
import { checkConnectTarget, pickCheckedAddress, type EgressPolicy } from '../../../core/router/egress/decide-egress';
import type { EgressAllowlist } from '../../../core/router/egress/egress-allowlist';
import {
  isDisabled, refuse, type EgressMitigation, type EgressRefusal, type EgressRefusalCode, type ResolvedAddress,
} from '../../../core/router/egress/egress-types';

/** Opens the TCP connection to a checked address. Production: `net.connect`; tests map public test addresses. */
export type EgressDialer = (to: { readonly address: string; readonly family: 4 | 6; readonly port: number }) => net.Socket;

export const defaultDialer: EgressDialer = ({ address, family, port }) => net.connect({ host: address, family, port });

export interface ConnectProxyDeps {
  readonly resolver: NameResolver;
  readonly audit: EgressAudit;
  /** Breakers keyed `host:port` (new CircuitBreakerSet(clock, TOOL_BREAKER_DEFAULTS)). */
  readonly breakers: CircuitBreakerSet;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly dial?: EgressDialer;
}

export interface ConnectProxyOptions {
  readonly sandboxId: string;
  /** parseEgressAllowlist(config); undefined or empty refuses every tunnel. */
  readonly allowlist: EgressAllowlist | undefined;
  /** Concurrent tunnels, pending ones included (default 64). */
  readonly maxTunnels?: number;
  /** A tunnel with no bytes either way for this long is closed (default 120 s). */
  readonly idleTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly resolveTimeoutMs?: number;
  /** TEST ONLY: switch mitigations off to show the attack then succeeds. Never set from configuration. */
  readonly _disable?: readonly EgressMitigation[];
}

export interface ConnectHandler {
  (req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Tunnels open or being set up. */
  activeTunnels(): number;
  /** Destroys every tunnel (shutdown after the listener stopped accepting). */
  closeAll(): void;
}

const MESSAGES: Record<EgressRefusalCode, string> = {
  EGRESS_TARGET_INVALID: 'CONNECT target must be host:port',
  EGRESS_HOST_NOT_ALLOWED: 'destination is not on the egress allowlist',
  EGRESS_IP_LITERAL: 'destinations are reached by allowlisted name only',
  EGRESS_ADDRESS_FORBIDDEN: 'destination resolves to a forbidden address',
  EGRESS_RESOLVE_FAILED: 'destination did not resolve',
  EGRESS_UPSTREAM_UNREACHABLE: 'destination unreachable',
  EGRESS_CIRCUIT_OPEN: 'destination is failing; retry later',
  EGRESS_TUNNELS_EXHAUSTED: 'too many open tunnels',
};

const REASON_PHRASE: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 502: 'Bad Gateway', 503: 'Service Unavailable' };

/** Builds the handler; one per listener. */
export function createConnectHandler(deps: ConnectProxyDeps, options: ConnectProxyOptions): ConnectHandler {
  const off = (m: EgressMitigation) => isDisabled(options._disable, m);
  const policy: EgressPolicy = { allowlist: options.allowlist, _disable: options._disable };
  const maxTunnels = options.maxTunnels ?? 64;
  const idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const resolveTimeoutMs = options.resolveTimeoutMs ?? 5_000;
  const dial = deps.dial ?? defaultDialer;
  const open = new Set<Duplex>();

  async function answerRefusal(client: Duplex, refusal: EgressRefusal, target: string, retryAfterMs?: number): Promise<void> {
    try {
      await deps.audit.refused({
        atMs: deps.clock.nowMs(), code: refusal.code, reason: refusal.reason, target: auditableTarget(target),
        sandboxId: options.sandboxId, ...(refusal.address === undefined ? {} : { address: refusal.address }),
      });
    } catch {
      deps.logger.error('egress.audit_failed', { code: refusal.code, sandboxId: options.sandboxId });
    }
    deps.logger.warn('egress.refused', { code: refusal.code, reason: refusal.reason, sandboxId: options.sandboxId });
    if (client.destroyed) return;
    const status = httpStatusOf(refusal.code);
    const body = JSON.stringify({ code: refusal.code, message: MESSAGES[refusal.code] });
    const retry = retryAfterMs === undefined ? '' : `Retry-After: ${Math.max(1, Math.ceil(retryAfterMs / 1000))}\r\n`;
    client.end(`HTTP/1.1 ${status} ${REASON_PHRASE[status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${retry}Connection: close\r\n\r\n${body}`);
  }

  async function resolveOnce(host: string): Promise<readonly ResolvedAddress[]> {
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => { ac.abort(); reject(new Error('resolve timeout')); }, resolveTimeoutMs); });
    try {
      return await Promise.race([deps.resolver.resolve(host, { abortSignal: ac.signal }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  function connectTo(to: ResolvedAddress, port: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const s = dial({ address: to.address, family: to.family, port });
      s.setTimeout(connectTimeoutMs);
      const fail = (e: Error) => { s.destroy(); reject(e); };
      s.once('timeout', () => fail(new Error('connect timeout')));
      s.once('error', fail);
      s.once('connect', () => {
        s.setTimeout(0);
        s.removeAllListeners('timeout');
        s.on('error', () => s.destroy()); // until splice() attaches its own
        s.removeListener('error', fail);
        resolve(s);
      });
    });
  }

  async function handle(req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    const authority = req.url ?? '';
    client.on('error', () => client.destroy());
    if (!off('tunnel-limit') && open.size >= maxTunnels) {
      await answerRefusal(client, refuse('EGRESS_TUNNELS_EXHAUSTED', 'max-tunnels'), authority, 1000);
      return;
    }
    open.add(client);
    client.once('close', () => open.delete(client));

    const allowed = checkConnectTarget(authority, policy);
    if (!allowed.ok) { await answerRefusal(client, allowed, authority); return; }
    const { target, literal } = allowed.value;
    const ticket = off('breaker') ? undefined : deps.breakers.admit(`${target.host}:${target.port}`);
    if (ticket && !ticket.allowed) {
      await answerRefusal(client, refuse('EGRESS_CIRCUIT_OPEN', 'breaker-open'), authority, ticket.retryAfterMs);
      return;
    }
    const settle = (ok: boolean | 'release') => {
      if (!ticket) return;
      if (ok === 'release') deps.breakers.release(ticket); else deps.breakers.record(ticket, ok);
    };

    let answers: readonly ResolvedAddress[];
    try {
      answers = literal ? [literal] : await resolveOnce(target.host);
    } catch {
      settle(false);
      await answerRefusal(client, refuse('EGRESS_RESOLVE_FAILED', 'lookup-failed'), authority);
      return;
    }
    const picked = pickCheckedAddress(answers, policy);
    // A forbidden address is a policy refusal, not a failing host: the breaker is not charged.
    if (!picked.ok) { settle(picked.code === 'EGRESS_RESOLVE_FAILED' ? false : 'release'); await answerRefusal(client, picked, authority); return; }
    let to = picked.value;
    if (off('resolve-once') && !literal) {
      // What dialling by name does: the system resolves again, and nothing checks the second answer.
      const again = await resolveOnce(target.host).catch(() => answers);
      to = again[0] ?? to;
    }
    if (client.destroyed) { settle('release'); return; }

    let upstream: net.Socket;
    try {
      upstream = await connectTo(to, target.port);
    } catch {
      settle(false);
      await answerRefusal(client, refuse('EGRESS_UPSTREAM_UNREACHABLE', 'connect-failed', to.address), authority);
      return;
    }
    settle(true);
    if (client.destroyed) { upstream.destroy(); return; }
    splice(client, upstream, head);
  }

  function splice(client: Duplex, upstream: net.Socket, head: Buffer): void {
    const closeBoth = () => { client.destroy(); upstream.destroy(); };
    upstream.on('error', closeBoth);
    upstream.on('close', closeBoth);
    client.on('close', closeBoth);
    if (!off('idle-timeout')) {
      upstream.setTimeout(idleTimeoutMs, closeBoth);
      if (client instanceof net.Socket) client.setTimeout(idleTimeoutMs, closeBoth);
    }
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  const handler = ((req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void handle(req, socket, head).catch(() => socket.destroy());
  }) as ConnectHandler;
  handler.activeTunnels = () => open.size;
  handler.closeAll = () => { for (const s of open) s.destroy(); };
  return handler;
}
