// T1-E: the workload identity subject of one sandbox's router. Its federated credential names exactly this service
// account in exactly that sandbox's namespace, so no other pod (another sandbox's router included) can exchange its
// service-account token for that sandbox's identity.
import { sandboxEventsEntity } from './sandbox-events-entity';

/** The Kubernetes service account a sandbox's router runs as (infra/k8s/sandbox/service-account.yaml). */
export const ROUTER_SERVICE_ACCOUNT = 'kars-router';

/**
 * `system:serviceaccount:kars-<sandboxId>:kars-router`.
 * @throws KarsError INPUT_INVALID when the id is not a DNS-1123 label
 */
export function routerSubjectOf(sandboxId: string): string {
  sandboxEventsEntity(sandboxId); // the same id check, one place
  return `system:serviceaccount:kars-${sandboxId}:${ROUTER_SERVICE_ACCOUNT}`;
}
