// Hook registrations (T1-S, T1-E): which tenant, sandbox and channel a hook id stands for, which event types it may
// deliver, and which secrets (by name, never by value) verify it. Two secrets are active during a rotation.
import type { Redacted } from '../secrets/redacted';
import type { WebhookChannel } from '../webhook/types';

export interface HookSecretRef {
  /** Name in the SecretSource (Key Vault). The value never enters a registration document. */
  readonly name: string;
  readonly addedAtMs: number;
  /** Set on the previous secret by a rotation: from this instant it no longer verifies. Absent on the current one. */
  readonly retiresAtMs?: number;
}

export interface HookRegistration {
  readonly hookId: string;
  /** The only source of a request's tenant: headers never choose it (T1-E). */
  readonly tenantId: string;
  /** Target sandbox; deliveries go to its Service Bus session. */
  readonly sandboxId: string;
  /** Target agent, the key of the per-agent rate limit. */
  readonly agentId: string;
  readonly channel: WebhookChannel;
  /** Event names this hook may deliver (see core/edge/event-name.ts); anything else is refused with 403. */
  readonly allowedEventTypes: readonly string[];
  /** Newest first; at most two, and only the first lacks `retiresAtMs`. */
  readonly secrets: readonly HookSecretRef[];
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  /** +1 on every change. */
  readonly revision: number;
}

/** What the edge needs per request: the registration and the values of its secrets that are active now. */
export interface ResolvedHook {
  readonly registration: HookRegistration;
  /** Newest first. */
  readonly secrets: readonly Redacted<string>[];
}

export interface CreateHookInput {
  /** Caller-chosen id (idempotent provisioning); generated when absent. */
  readonly hookId?: string;
  readonly tenantId: string;
  readonly sandboxId: string;
  /** Defaults to `sandboxId` (one agent per sandbox). */
  readonly agentId?: string;
  readonly channel: WebhookChannel;
  readonly allowedEventTypes: readonly string[];
  /** The signing secret the channel uses; stored in the SecretSource, referenced by name. */
  readonly secret: Redacted<string>;
}

export interface RotateHookInput {
  readonly secret: Redacted<string>;
  /** How long the previous secret keeps verifying; 0 retires it at once. */
  readonly previousGraceSec: number;
}

export interface HookRegistryCallOptions {
  abortSignal?: AbortSignal;
}

export interface HookRegistry {
  /**
   * Edge path: the registration with its currently active secret values, or undefined for an unknown hook id. May be
   * served from a short cache; secret activity is judged against `nowMs` at every call, never cached.
   * @throws KarsError STORE_UNAVAILABLE | SECRET_UNAVAILABLE | SECRET_NOT_FOUND
   */
  lookup(hookId: string, nowMs: number, options?: HookRegistryCallOptions): Promise<ResolvedHook | undefined>;
  /** Admin path, never cached. @throws KarsError STORE_UNAVAILABLE */
  get(hookId: string, options?: HookRegistryCallOptions): Promise<HookRegistration | undefined>;
  /**
   * Stores the secret, then the registration.
   * @throws KarsError STORE_CONFLICT (the id exists) | INPUT_INVALID | STORE_UNAVAILABLE | SECRET_UNAVAILABLE
   */
  create(input: CreateHookInput, options?: HookRegistryCallOptions): Promise<HookRegistration>;
  /**
   * Stores a new secret and makes it current; the previous one retires after the grace period, older ones go.
   * @throws KarsError STORE_NOT_FOUND | STORE_PRECONDITION_FAILED (lost a race; retry) | INPUT_INVALID | STORE_UNAVAILABLE
   */
  rotate(hookId: string, input: RotateHookInput, options?: HookRegistryCallOptions): Promise<HookRegistration>;
}
