// https.Agent for model upstreams (T3-T, T3-S): certificates always verified against Node's roots plus
// NODE_EXTRA_CA_CERTS (rejectUnauthorized cannot be turned off by a request), host names pinned to the configured
// endpoints (servername forced to that name), optional SPKI pins over the verified chain, a client certificate for
// upstreams that require mTLS, TLS ≥ 1.2. Redirects: Node never follows them; the proxy must refuse them
// (core/router/upstream/redirect-policy.ts).
import { X509Certificate } from 'node:crypto';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { KarsError, isKarsError, type KarsErrorCode } from '../../../core/errors';
import type { NameResolver } from '../../../core/ports/name-resolver.port';
import { chainMatchesPins } from '../../../core/router/upstream/spki-pins';
import { normalizeHostName } from '../../../core/router/egress/egress-allowlist';
import type { Redacted } from '../../../core/secrets/redacted';

export const UPSTREAM_TLS_MITIGATIONS = ['chain-verify', 'name-check', 'spki-pin', 'endpoint-pin'] as const;
export type UpstreamTlsMitigation = (typeof UPSTREAM_TLS_MITIGATIONS)[number];

export interface UpstreamEndpoint {
  /** DNS name of the model endpoint, e.g. `myres.openai.azure.com`. */
  readonly host: string;
  /** Default 443. */
  readonly port?: number;
}

export interface UpstreamAgentOptions {
  readonly endpoints: readonly UpstreamEndpoint[];
  /** parseSpkiPins(config); empty or absent: no pinning beyond the roots. */
  readonly spkiPins?: ReadonlySet<string>;
  /** PEM client certificate chain and key, for upstreams that require mTLS. */
  readonly clientCertificate?: { readonly certPem: string; readonly keyPem: Redacted<string> };
  /**
   * Name lookups for the endpoints (default: the system resolver). Model endpoints may legitimately resolve to
   * private-endpoint addresses, so no address class is refused here: TLS is what authenticates them.
   */
  readonly resolver?: NameResolver;
  readonly maxSockets?: number;
  readonly keepAlive?: boolean;
  /** TEST ONLY: switch mitigations off to show the attack then succeeds. Never set from configuration. */
  readonly _disable?: readonly UpstreamTlsMitigation[];
}

const endpointKey = (host: string, port: number): string => `${host}:${port}`;

/**
 * Builds the agent once per router; pass it as `agent` to every https.request for the model upstream.
 * @throws KarsError CONFIG_INVALID when an endpoint host is not a DNS name
 */
export function createUpstreamAgent(options: UpstreamAgentOptions): https.Agent {
  const off = (m: UpstreamTlsMitigation) => options._disable?.includes(m) === true;
  const endpoints = new Set(options.endpoints.map((e, i) => {
    const host = normalizeHostName(e.host);
    if (!host) throw new KarsError('CONFIG_INVALID', `upstream endpoint ${i} must be a DNS name`);
    return endpointKey(host, e.port ?? 443);
  }));
  const pins = options.spkiPins ?? new Set<string>();
  const lookup = options.resolver ? resolverLookup(options.resolver) : undefined;

  const checkServerIdentity = (host: string, cert: tls.PeerCertificate): Error | undefined => {
    if (!off('name-check')) {
      const err = tls.checkServerIdentity(host, cert);
      if (err) return err;
    }
    if (pins.size > 0 && !off('spki-pin') && !chainMatchesPins(chainSpkis(cert), pins)) {
      return new KarsError('UPSTREAM_PIN_MISMATCH', 'upstream certificate chain carries no configured SPKI pin');
    }
    return undefined;
  };

  const forced: tls.ConnectionOptions = {
    rejectUnauthorized: !off('chain-verify'),
    minVersion: 'TLSv1.2',
    checkServerIdentity,
    // The client key goes into one secure context (default roots + NODE_EXTRA_CA_CERTS, as without it), never into
    // the agent's options: https.Agent folds `cert`/`key` text into its socket-pool names.
    ...(options.clientCertificate
      ? { secureContext: tls.createSecureContext({ cert: options.clientCertificate.certPem, key: options.clientCertificate.keyPem.reveal() }) }
      : {}),
    ...(lookup ? { lookup } : {}),
  };

  class PinnedUpstreamAgent extends https.Agent {
    override createConnection(req: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
      const host = normalizeHostName(String(req.host ?? req.hostname ?? ''));
      const port = Number(req.port ?? 443);
      if (!off('endpoint-pin') && (!host || !endpoints.has(endpointKey(host, port)))) {
        callback?.(new KarsError('UPSTREAM_HOST_NOT_PINNED', 'host is not a configured model endpoint'), undefined as unknown as Duplex);
        return undefined;
      }
      // The request's own TLS fields never win over these: servername is the pinned name, verification stays on.
      return super.createConnection({ ...req, ...forced, servername: host ?? String(req.host ?? '') } as https.RequestOptions, callback);
    }
  }

  return new PinnedUpstreamAgent({ keepAlive: options.keepAlive ?? true, maxSockets: options.maxSockets ?? 64, ...forced });
}

// The DER SubjectPublicKeyInfo of the leaf and every issuer Node attached (its verified chain, root included when it
// came from the trust store). `pubkey` is not used: for EC keys it is the bare point, not an SPKI.
function chainSpkis(leaf: tls.PeerCertificate): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Set<tls.PeerCertificate>();
  let c: tls.DetailedPeerCertificate | tls.PeerCertificate | undefined = leaf;
  while (c && c.raw && !seen.has(c)) {
    seen.add(c);
    out.push(new X509Certificate(c.raw).publicKey.export({ type: 'spki', format: 'der' }));
    c = (c as tls.DetailedPeerCertificate).issuerCertificate;
  }
  return out;
}

function resolverLookup(resolver: NameResolver): LookupFunction {
  return (hostname, opts, cb) => {
    resolver.resolve(hostname.replace(/\.$/, '').toLowerCase()).then((answers) => {
      if (answers.length === 0) throw new Error('no address');
      if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: unknown[]) => void)(null, answers.map((a) => ({ address: a.address, family: a.family })));
      else cb(null, answers[0]!.address, answers[0]!.family);
    }).catch((e: unknown) => cb(e as NodeJS.ErrnoException, '', 4));
  };
}

/**
 * The stable code for an error from a request made with this agent, or undefined when it is not a TLS/pinning
 * failure. Any of these means nothing was sent: the failover may treat it as `connect-error`.
 */
export function upstreamTlsErrorCode(e: unknown): KarsErrorCode | undefined {
  if (isKarsError(e) && (e.code === 'UPSTREAM_PIN_MISMATCH' || e.code === 'UPSTREAM_HOST_NOT_PINNED')) return e.code;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || TLS_VERIFY_CODES.has(code)) return 'UPSTREAM_TLS_FAILED';
  return undefined;
}

const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE', 'CERT_REVOKED', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'EPROTO',
]);

const NOTHING_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * For callWithFailover: an error before the request left (refused, unresolvable, TLS or pin failure) is
 * `connect-error` (safe to send elsewhere); anything else (reset, timeout) is `error` (the upstream may have it).
 */
export function attemptErrorKind(e: unknown): 'connect-error' | 'error' {
  if (upstreamTlsErrorCode(e) !== undefined) return 'connect-error';
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NOTHING_SENT.has(code) ? 'connect-error' : 'error';
}
