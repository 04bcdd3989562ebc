// Validates a router's projected service-account token (T4-S, per-sandbox identity): RS256 only, key by `kid` from
// the cluster issuer's JWKS, then iss, aud (`kars-mesh`), exp / nbf with a small skew, a bounded lifetime, and a
// subject `system:serviceaccount:<namespace>:<sa>` whose namespace names the sandbox. Pure: keys come in as KeyObjects.
import { verify, type KeyObject } from 'node:crypto';
import { fail, ok, type Result } from '../../errors';
import type { RouterCaller, RouterTokenRefusal } from '../../ports/router-authenticator.port';

export const MESH_TOKEN_AUDIENCE = 'kars-mesh';
/** The header a router sends its projected token in (mesh routes and the routers' trust reads). */
export const ROUTER_TOKEN_HEADER = 'x-kars-router-token';
/**
 * Longest router token lifetime accepted by default: the router pod's projected token asks for expirationSeconds 3600
 * (infra/k8s/sandbox/deployment.yaml), so a token living longer was not minted for a router (Kubernetes allows 48 h).
 */
export const DEFAULT_ROUTER_TOKEN_MAX_LIFETIME_SEC = 3600;

export interface RouterTokenPolicy {
  issuer: string;
  audience: string;
  /** Service-account names allowed to act as a sandbox's router (e.g. `kars-router`). */
  serviceAccounts: readonly string[];
  clockSkewSec?: number;
  /** Longest exp - iat accepted. Default DEFAULT_ROUTER_TOKEN_MAX_LIFETIME_SEC (1 h). */
  maxLifetimeSec?: number;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
// A Kubernetes namespace / service-account name (RFC 1123 label).
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function verifyRouterToken(
  token: string, keyFor: (kid: string) => KeyObject | undefined, policy: RouterTokenPolicy, nowSec: number,
): Result<RouterCaller, RouterTokenRefusal> {
  const parts = token.split('.');
  if (token.length > 8192 || parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) return fail('malformed', 'not a compact JWS');
  const [h, p, s] = parts as [string, string, string];
  let header: { alg?: unknown; kid?: unknown };
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    return fail('malformed', 'header or payload is not JSON');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return fail('malformed', 'payload is not an object');
  // RS256 only: `none` and HMAC keyed with the public key are refused before any key is touched.
  if (header.alg !== 'RS256') return fail('algorithm', 'only RS256');
  const key = typeof header.kid === 'string' ? keyFor(header.kid) : undefined;
  if (!key) return fail('unknown-key', 'no key for kid');
  if (!verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))) return fail('signature', 'bad signature');
  const skew = policy.clockSkewSec ?? 60;
  if (claims.iss !== policy.issuer) return fail('issuer', 'unexpected issuer');
  const auds = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!auds.includes(policy.audience)) return fail('audience', 'unexpected audience');
  const { exp, nbf, iat } = claims;
  if (typeof exp !== 'number' || exp + skew <= nowSec) return fail('expired', 'expired or no exp');
  if (typeof nbf === 'number' && nbf - skew > nowSec) return fail('not-yet-valid', 'nbf in the future');
  if (typeof iat !== 'number' || exp - iat > (policy.maxLifetimeSec ?? DEFAULT_ROUTER_TOKEN_MAX_LIFETIME_SEC)) return fail('lifetime', 'no iat or lifetime too long');
  const sandbox = sandboxOfSubject(claims.sub, policy.serviceAccounts);
  if (!sandbox) return fail('subject', 'subject is not an allowed service account');
  // The kubernetes.io claim, when present, must agree with the subject.
  const k8s = claims['kubernetes.io'] as { namespace?: unknown } | undefined;
  if (k8s !== undefined && (typeof k8s !== 'object' || k8s === null || k8s.namespace !== sandbox)) return fail('subject', 'namespace claim disagrees');
  return ok({ sandboxId: sandbox });
}

/** `system:serviceaccount:<ns>:<sa>` → ns when sa is allowed. */
export function sandboxOfSubject(sub: unknown, serviceAccounts: readonly string[]): string | undefined {
  if (typeof sub !== 'string') return undefined;
  const parts = sub.split(':');
  if (parts.length !== 4 || parts[0] !== 'system' || parts[1] !== 'serviceaccount') return undefined;
  const [, , ns, sa] = parts as [string, string, string, string];
  return LABEL.test(ns) && LABEL.test(sa) && serviceAccounts.includes(sa) ? ns : undefined;
}
