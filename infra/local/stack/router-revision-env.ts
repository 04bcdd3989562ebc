// LOCAL STAND-IN: what a sandbox spec revision changes in a demo router's process. The local stack runs one router
// build, so a revision is its id (reported back by /healthz) plus a few router settings from `spec.env`; the image a
// spec names is checked by the driver (RR1) but not pulled here. Only allowlisted settings pass: a revision must not
// redirect the router's identity, endpoint or listener.
import type { SandboxRevision } from '../../../core/ports/sandbox-driver.port';

export const REVISION_ROUTER_SETTINGS = [
  'KARS_ROUTER_DEPLOYMENTS',
  'KARS_ROUTER_FALLBACKS',
  'KARS_ROUTER_MAX_CONCURRENCY',
  'KARS_ROUTER_UPSTREAM_TIMEOUT_MS',
  'KARS_ROUTER_DEFAULT_MAX_TOKENS',
  'KARS_ROUTER_MAX_TOKENS_PER_REQUEST',
  'KARS_ROUTER_DRAIN_MS',
] as const;

/** The env a revision adds to a router's base settings (empty for none: the router reports no revision). */
export function routerEnvOfRevision(revision: SandboxRevision | null): Record<string, string> {
  if (!revision) return {};
  const env: Record<string, string> = { KARS_ROUTER_REVISION: revision.id };
  const fromSpec = revision.spec.env;
  if (typeof fromSpec === 'object' && fromSpec !== null) {
    for (const key of REVISION_ROUTER_SETTINGS) {
      const value = (fromSpec as Record<string, unknown>)[key];
      if (typeof value === 'string') env[key] = value;
    }
  }
  return env;
}
