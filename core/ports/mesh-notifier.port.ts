// Tells a sandbox's router that frames wait for its agent at the relay store (Service Bus in Azure, session = the
// sandbox id, so only that router receives it). Carries no frame content, only what to fetch.
export interface MeshPendingNote {
  readonly recipientDid: string;
  readonly messageId: string;
}

export interface MeshNotifier {
  /**
   * Resolves once the broker accepted the note; `dedupKey` lets the broker drop a retried duplicate.
   * @throws KarsError BUS_UNAVAILABLE | BUS_QUEUE_NOT_FOUND
   */
  notify(sandboxId: string, note: MeshPendingNote, dedupKey: string, options?: { abortSignal?: AbortSignal }): Promise<void>;
}
