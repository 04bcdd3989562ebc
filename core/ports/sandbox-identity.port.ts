// T1-E: gives each sandbox its own broker identity. Creating a sandbox provisions its events queue
// (core/sandbox/sandbox-events-entity.ts), a workload identity federated with that sandbox's router service account,
// and a receive-only role assignment scoped to that one queue; removing the sandbox removes all three. Azure: the
// Bicep module bicep/modules/sandbox-identity.bicep; locally: the broker's and the identity stand-in's management APIs.

/** What a sandbox's router needs to reach its events: the queue name and the identity to present. */
export interface SandboxIdentityGrant {
  sandboxId: string;
  /** `sbx-<sandboxId>`. */
  entity: string;
  /** AZURE_CLIENT_ID of the sandbox's router (the service account annotation in AKS). */
  clientId: string;
  /** Object id the role assignment names. */
  principalId: string;
  /** The federated credential subject: `system:serviceaccount:kars-<sandboxId>:kars-router`. */
  subject: string;
}

export interface SandboxIdentityCallOptions {
  abortSignal?: AbortSignal;
}

export interface SandboxIdentityProvisioner {
  /**
   * Idempotent: provisioning a sandbox that has its identity returns the same grant (same client id).
   * @throws KarsError INPUT_INVALID (sandbox id) | DEPENDENCY_UNAVAILABLE | DEPENDENCY_TIMEOUT
   */
  provision(sandboxId: string, options?: SandboxIdentityCallOptions): Promise<SandboxIdentityGrant>;
  /**
   * Removes the role assignment first (no moment where the identity outlives its scope), then the identity and the
   * queue. Idempotent: removing what is gone succeeds.
   * @throws KarsError INPUT_INVALID | DEPENDENCY_UNAVAILABLE | DEPENDENCY_TIMEOUT
   */
  deprovision(sandboxId: string, options?: SandboxIdentityCallOptions): Promise<void>;
}
