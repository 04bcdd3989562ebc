// T4-E: which Ed25519 keys may issue trust updates for a tenant. Fail closed: a lookup error refuses the update.

export interface TrustIssuerRegistry {
  /**
   * The tenant's allowed issuer keys (base64url of the raw 32-byte public key); empty when none are registered.
   * @throws KarsError STORE_UNAVAILABLE
   */
  allowedIssuers(tenantId: string, options?: { abortSignal?: AbortSignal }): Promise<readonly string[]>;
}
