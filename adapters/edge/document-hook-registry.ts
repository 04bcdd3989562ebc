// HookRegistry over the DocumentStore (Cosmos in Azure) and the SecretSource (Key Vault) (T1-S, T1-E): registrations
// hold secret names only; values are read from the vault and kept in a short in-process cache so verification does
// not cost a vault call per request. Rotations are ETag compare-and-swap writes.
import { KarsError, isKarsError } from '../../core/errors';
import {
  activeSecretRefs, checkGraceSec, checkSecret, generateHookId, newRegistration, rotatedRegistration, validateCreateHook,
} from '../../core/edge/hook-registration';
import { isHookId } from '../../core/edge/edge-ids';
import type { Clock } from '../../core/ports/clock.port';
import { systemClock } from '../../core/ports/clock.port';
import type { DocumentBody, DocumentStore } from '../../core/ports/document-store.port';
import type {
  CreateHookInput, HookRegistration, HookRegistry, HookRegistryCallOptions, HookSecretRef, ResolvedHook, RotateHookInput,
} from '../../core/ports/hook-registry.port';
import type { SecretSource } from '../../core/ports/secret-source.port';
import type { Redacted } from '../../core/secrets/redacted';

export const DEFAULT_HOOK_CACHE_TTL_MS = 10_000;
export const DEFAULT_HOOK_NEGATIVE_CACHE_TTL_MS = 2_000;

export interface DocumentHookRegistryOptions {
  /** How long a registration and its secret values are reused (default 10 s; 0 disables the cache). */
  cacheTtlMs?: number;
  /** How long an unknown hook id is remembered as unknown, so floods of made-up ids do not reach the store (default 2 s). */
  negativeCacheTtlMs?: number;
  maxCacheEntries?: number;
  clock?: Clock;
}

interface HookDocument extends DocumentBody {
  kind: 'hook-registration';
  registration: HookRegistration;
}

interface CacheEntry {
  loadedAtMs: number;
  value: LoadedHook | undefined;
}

interface LoadedHook {
  registration: HookRegistration;
  secretValues: Map<string, Redacted<string>>;
  /** The answer while no secret has retired yet (the common case): built once per load instead of per request. */
  allActive: ResolvedHook;
  /** Earliest `retiresAtMs` of the registration's secrets (Infinity when none retires). */
  allActiveUntilMs: number;
}

/** Partition = id = hook id: every access is a point read or write. */
const pk = (hookId: string): string => hookId;

export function createDocumentHookRegistry(store: DocumentStore, secrets: SecretSource, options: DocumentHookRegistryOptions = {}): HookRegistry {
  const clock = options.clock ?? systemClock;
  const ttlMs = options.cacheTtlMs ?? DEFAULT_HOOK_CACHE_TTL_MS;
  const negativeTtlMs = options.negativeCacheTtlMs ?? DEFAULT_HOOK_NEGATIVE_CACHE_TTL_MS;
  const maxEntries = options.maxCacheEntries ?? 10_000;
  const cache = new Map<string, CacheEntry>();
  const inflight = new Map<string, Promise<CacheEntry>>();

  const remember = (hookId: string, entry: CacheEntry): void => {
    cache.delete(hookId);
    cache.set(hookId, entry);
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
  };

  async function readRegistration(hookId: string, callOptions?: HookRegistryCallOptions) {
    const found = await store.read<HookDocument>(pk(hookId), hookId, { abortSignal: callOptions?.abortSignal });
    if (found === undefined || found.doc.kind !== 'hook-registration') return undefined;
    return { registration: found.doc.registration, etag: found.etag };
  }

  async function load(hookId: string, callOptions?: HookRegistryCallOptions): Promise<CacheEntry> {
    const loadedAtMs = clock.nowMs();
    const found = await readRegistration(hookId, callOptions);
    if (found === undefined) return { loadedAtMs, value: undefined };
    const { registration } = found;
    const secretValues = new Map<string, Redacted<string>>();
    // Only secrets still active when loaded; the current one must exist, a retiring one may already be gone.
    await Promise.all(activeSecretRefs(registration, loadedAtMs).map(async (ref, index) => {
      try {
        secretValues.set(ref.name, await secrets.getSecret(ref.name, { abortSignal: callOptions?.abortSignal }));
      } catch (e) {
        if (index > 0 && isKarsError(e) && e.code === 'SECRET_NOT_FOUND') return;
        throw e;
      }
    }));
    const allActiveUntilMs = Math.min(...registration.secrets.map((s) => s.retiresAtMs ?? Number.POSITIVE_INFINITY));
    const allActive: ResolvedHook = Object.freeze({ registration, secrets: Object.freeze(resolveSecrets(registration.secrets, secretValues)) });
    return { loadedAtMs, value: { registration, secretValues, allActive, allActiveUntilMs } };
  }

  return {
    async lookup(hookId, nowMs, callOptions) {
      if (!isHookId(hookId)) return undefined;
      const now = clock.nowMs();
      let entry = cache.get(hookId);
      const fresh = entry !== undefined && now - entry.loadedAtMs < (entry.value === undefined ? negativeTtlMs : ttlMs);
      if (!fresh) {
        let pending = inflight.get(hookId);
        if (pending === undefined) {
          // One load per hook id at a time, shared by concurrent requests.
          pending = load(hookId, callOptions).finally(() => inflight.delete(hookId));
          inflight.set(hookId, pending);
        }
        entry = await pending;
        if (ttlMs > 0) remember(hookId, entry);
      }
      const value = entry!.value;
      if (value === undefined) return undefined;
      // Retirement is judged now, at every request, never from the cache's point of view. Before the earliest
      // retirement every secret is active, which is exactly the prebuilt answer.
      if (nowMs < value.allActiveUntilMs) return value.allActive;
      const resolved: ResolvedHook = { registration: value.registration, secrets: resolveSecrets(activeSecretRefs(value.registration, nowMs), value.secretValues) };
      return resolved;
    },

    async get(hookId, callOptions) {
      if (!isHookId(hookId)) return undefined;
      return (await readRegistration(hookId, callOptions))?.registration;
    },

    async create(input: CreateHookInput, callOptions) {
      const valid = validateCreateHook(input);
      if (!valid.ok) throw new KarsError('INPUT_INVALID', valid.message);
      const hookId = input.hookId ?? generateHookId();
      const registration = newRegistration(input, hookId, clock.nowMs());
      // Secret first: a registration must never point at a name that has no value. The name is unique per write, so
      // losing the create race below leaves an unused secret behind, never a replaced one.
      await secrets.setSecret(registration.secrets[0]!.name, input.secret, { abortSignal: callOptions?.abortSignal });
      const doc: HookDocument = { id: hookId, kind: 'hook-registration', registration };
      await store.create(pk(hookId), doc, { abortSignal: callOptions?.abortSignal });
      cache.delete(hookId);
      return registration;
    },

    async rotate(hookId: string, input: RotateHookInput, callOptions) {
      if (!isHookId(hookId)) throw new KarsError('STORE_NOT_FOUND', 'no such hook');
      const found = await readRegistration(hookId, callOptions);
      if (found === undefined) throw new KarsError('STORE_NOT_FOUND', 'no such hook');
      const grace = checkGraceSec(input.previousGraceSec);
      if (!grace.ok) throw new KarsError('INPUT_INVALID', grace.message);
      const secretOk = checkSecret(found.registration.channel, input.secret);
      if (!secretOk.ok) throw new KarsError('INPUT_INVALID', secretOk.message);
      const next = rotatedRegistration(found.registration, clock.nowMs(), input.previousGraceSec);
      await secrets.setSecret(next.secrets[0]!.name, input.secret, { abortSignal: callOptions?.abortSignal });
      const doc: HookDocument = { id: hookId, kind: 'hook-registration', registration: next };
      await store.replace(pk(hookId), doc, { ifMatch: found.etag, abortSignal: callOptions?.abortSignal });
      cache.delete(hookId);
      return next;
    },
  };
}

/** The values of `refs` that were loaded (a retiring secret may already be gone from the vault), in order. */
function resolveSecrets(refs: readonly HookSecretRef[], values: ReadonlyMap<string, Redacted<string>>): Redacted<string>[] {
  return refs.map((ref) => values.get(ref.name)).filter((v): v is Redacted<string> => v !== undefined);
}
