// Hand-off of accepted webhooks to the target sandbox (T1-E: one session per sandbox, so a delivery can only reach the
// sandbox its registration names).

export interface EdgeDelivery {
  readonly tenantId: string;
  /** Session id: the sandbox's router receives only its own session. */
  readonly sandboxId: string;
  readonly agentId: string;
  readonly hookId: string;
  readonly channel: string;
  /** Event name as allowlisted (core/edge/event-name.ts). */
  readonly eventType: string;
  readonly deliveryId: string;
  readonly receiptId: string;
  /** Broker duplicate-detection key: hex digest of hook id and replay key, free of sender text. */
  readonly dedupKey: string;
  readonly receivedAtMs: number;
  /** The schema-validated event payload (credentials such as Slack's verification token removed); JSON only. */
  readonly payload: unknown;
}

export interface EdgeQueueOptions {
  abortSignal?: AbortSignal;
}

export interface EdgeQueue {
  /**
   * Resolves only once the delivery is durable (the broker accepted it).
   * @throws KarsError BUS_UNAVAILABLE | BUS_QUEUE_NOT_FOUND | BUS_MESSAGE_TOO_LARGE | DEPENDENCY_TIMEOUT
   */
  enqueue(delivery: EdgeDelivery, options?: EdgeQueueOptions): Promise<void>;
}
