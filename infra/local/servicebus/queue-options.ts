// Local Service Bus stand-in: per-queue settings, with Service Bus's own defaults.

export interface QueueOptions {
  /** Queue name; Service Bus entity names are case-insensitive, and so is this broker. */
  name: string;
  /** Messages must carry a session id and are received through session receivers only. */
  requiresSession?: boolean;
  /** Peek-lock duration (Service Bus default 30 s). */
  lockDurationMs?: number;
  /** Deliveries allowed before a message moves to the dead-letter queue (Service Bus default 10). */
  maxDeliveryCount?: number;
  /** A message id seen within this window is accepted but not enqueued again; 0 disables (default 10 min). */
  duplicateDetectionWindowMs?: number;
}

export interface ResolvedQueueOptions {
  readonly name: string;
  readonly requiresSession: boolean;
  readonly lockDurationMs: number;
  readonly maxDeliveryCount: number;
  readonly duplicateDetectionWindowMs: number;
}

export const DEFAULT_LOCK_DURATION_MS = 30_000;
export const DEFAULT_MAX_DELIVERY_COUNT = 10;
export const DEFAULT_DUPLICATE_DETECTION_WINDOW_MS = 10 * 60_000;

const ENTITY_NAME = /^[A-Za-z0-9][A-Za-z0-9._\-~]{0,259}$/;

/** @throws TypeError naming the bad field (never silently clamps a test's short lock duration). */
export function resolveQueueOptions(options: QueueOptions): ResolvedQueueOptions {
  if (!ENTITY_NAME.test(options.name)) {
    throw new TypeError(`queue name ${JSON.stringify(options.name)} is not a valid Service Bus entity name`);
  }
  const lockDurationMs = options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS;
  const maxDeliveryCount = options.maxDeliveryCount ?? DEFAULT_MAX_DELIVERY_COUNT;
  const duplicateDetectionWindowMs = options.duplicateDetectionWindowMs ?? DEFAULT_DUPLICATE_DETECTION_WINDOW_MS;
  if (!Number.isInteger(lockDurationMs) || lockDurationMs < 1) {
    throw new TypeError(`queue ${options.name}: lockDurationMs must be a positive integer`);
  }
  if (!Number.isInteger(maxDeliveryCount) || maxDeliveryCount < 1) {
    throw new TypeError(`queue ${options.name}: maxDeliveryCount must be a positive integer`);
  }
  if (!Number.isInteger(duplicateDetectionWindowMs) || duplicateDetectionWindowMs < 0) {
    throw new TypeError(`queue ${options.name}: duplicateDetectionWindowMs must be a non-negative integer`);
  }
  return {
    name: options.name,
    requiresSession: options.requiresSession ?? false,
    lockDurationMs,
    maxDeliveryCount,
    duplicateDetectionWindowMs,
  };
}
