// T4-S: the one agent DID a sandbox router acts for. Configured for the sandbox, or bound at the agent's first
// successful registration and kept in a durable file; afterwards every frame, registration and prekey upload for
// another DID is refused (MESH_DID_MISMATCH). Binding is serialized: two racing first registrations cannot both win.
import type { DidBindingStore } from '../../ports/did-binding-store.port';

export type BindOutcome = 'bound' | 'same' | 'mismatch';

export interface DidBinding {
  /** The bound DID, undefined before the first registration (and with none configured). */
  current(): string | undefined;
  /** True when nothing is bound yet or `did` is the bound DID. */
  admits(did: string): boolean;
  /** Binds `did` when nothing is bound (persisted before it counts); 'mismatch' when another DID is bound. */
  bind(did: string): Promise<BindOutcome>;
}

/** Loads the kept binding; a configured DID takes precedence over the file. */
export async function loadDidBinding(store: DidBindingStore | undefined, configured?: string): Promise<DidBinding> {
  let bound = configured ?? (await store?.load());
  let queue: Promise<unknown> = Promise.resolve();
  return {
    current: () => bound,
    admits: (did) => bound === undefined || bound === did,
    bind(did) {
      const run = queue.then(async (): Promise<BindOutcome> => {
        if (bound !== undefined) return bound === did ? 'same' : 'mismatch';
        await store?.save(did);
        bound = did;
        return 'bound';
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}
