// Where a router keeps the agent DID it bound at the first registration (T4-S): a small durable file in the pod, so a
// router restart cannot be used to bind another DID.
export interface DidBindingStore {
  load(): Promise<string | undefined>;
  /** Durable once resolved (written and renamed into place). */
  save(did: string): Promise<void>;
}
