// T4-E: admitted trust updates on their way to the applier. One message per subject DID, sent as that DID's session,
// so updates to one subject apply in order; the messages of one batch are accepted or refused together.
import type { SignedTrustUpdate } from '../trust/trust-update';

export interface TrustQueueMessage {
  readonly tenantId: string;
  /** Session key. */
  readonly subject: string;
  readonly updates: readonly SignedTrustUpdate[];
}

export interface TrustUpdateQueue {
  /** @throws KarsError BUS_UNAVAILABLE | BUS_QUEUE_NOT_FOUND | BUS_MESSAGE_TOO_LARGE */
  enqueue(messages: readonly TrustQueueMessage[]): Promise<void>;
}
