// Builds the router-receipt route's dependencies (composition helper for functions/routes.ts): router tokens checked
// against the cluster's OIDC issuer for the `kars-audit` audience, receipts into the app's receipt chains.
import { createOidcRouterAuthenticator } from '../../adapters/mesh/oidc-router-authenticator';
import type { Logger } from '../../core/ports/logger.port';
import type { ReceiptSink } from '../../core/ports/receipt-sink.port';
import type { RouterAuditSettings } from './router-audit-settings';
import type { RouterReceiptRouteDeps } from './router-receipt-routes';

export function buildRouterAuditDeps(services: { receipts: ReceiptSink; logger: Logger }, settings: RouterAuditSettings): RouterReceiptRouteDeps {
  const authenticator = createOidcRouterAuthenticator({
    issuer: settings.issuer, jwksUrl: settings.jwksUrl, audience: settings.audience, serviceAccounts: settings.serviceAccounts,
  });
  return { authenticator, receipts: services.receipts, logger: services.logger };
}
