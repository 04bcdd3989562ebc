// A bounded in-process replay set for the router bridge: one router per sandbox pod, so its own memory is the whole
// state for what it has seen (connect proofs, countersigned frames). Entries expire; at the cap the oldest go first
// (they are the nearest to leaving the ±300 s window anyway). A router restart forgets: noted in docs/threat-model.md.
export interface ReplayWindow {
  /** True when `key` was not held (now claimed until `expiresAtMs`); false for a replay. */
  claim(key: string, expiresAtMs: number, nowMs: number): boolean;
  has(key: string, nowMs: number): boolean;
  readonly size: number;
}

export function createReplayWindow(maxEntries = 100_000): ReplayWindow {
  const entries = new Map<string, number>();
  const sweep = (nowMs: number): void => {
    for (const [k, exp] of entries) {
      if (exp > nowMs && entries.size <= maxEntries) break;
      entries.delete(k);
    }
  };
  return {
    claim(key, expiresAtMs, nowMs) {
      const held = entries.get(key);
      if (held !== undefined && held > nowMs) return false;
      entries.delete(key);
      entries.set(key, expiresAtMs);
      sweep(nowMs);
      return true;
    },
    has(key, nowMs) {
      const held = entries.get(key);
      return held !== undefined && held > nowMs;
    },
    get size() {
      return entries.size;
    },
  };
}
