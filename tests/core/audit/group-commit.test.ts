// Group commit on its own: items arriving while a key's write is in flight go out together in the next write, as soon
// as it finishes; bounds per write; one key never waits for another; a failed write fails only its own callers.
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../core/audit/group-commit';
import { settledCode } from '../../support/settled-code';
import { KarsError } from '../../../core/errors';

function heldWriter(): { writes: [string, number[]][]; release: () => void; waiting: () => number; write: (k: string, items: readonly number[]) => Promise<number[]> } {
  const writes: [string, number[]][] = [];
  let gates: (() => void)[] = [];
  return {
    writes,
    waiting: () => gates.length,
    release: () => { const g = gates; gates = []; g.forEach((f) => f()); },
    write: async (key, items) => {
      writes.push([key, [...items]]);
      await new Promise<void>((r) => gates.push(r));
      if (items.includes(-1)) throw new KarsError('STORE_UNAVAILABLE', 'down');
      return items.map((i) => i * 10);
    },
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const aborted = (): KarsError => new KarsError('STORE_UNAVAILABLE', 'aborted');
const overloaded = (): KarsError => new KarsError('AUDIT_BACKLOG_FULL', 'full');
const roomy = { maxQueuedPerKey: 1000, maxQueuedTotal: 1000, overloaded };

describe('GroupCommit', () => {
  it('writes a lone item at once, batches what arrives meanwhile, and answers each caller with its own result', async () => {
    const w = heldWriter();
    const gc = new GroupCommit(w.write, { maxItems: 3, maxBytes: 1000, aborted, ...roomy });
    const first = gc.submit('a', 1, 1);
    await tick();
    expect(w.writes).toEqual([['a', [1]]]);
    const rest = [2, 3, 4, 5].map((n) => gc.submit('a', n, 1));
    const other = gc.submit('b', 9, 1); // another key does not wait
    await tick();
    expect(w.writes).toEqual([['a', [1]], ['b', [9]]]);
    w.release();
    await tick();
    expect(w.writes.slice(2)).toEqual([['a', [2, 3, 4]]]); // bounded at maxItems
    w.release();
    await tick();
    expect(w.writes.slice(3)).toEqual([['a', [5]]]);
    w.release();
    expect(await Promise.all([first, ...rest, other])).toEqual([10, 20, 30, 40, 50, 90]);
  });

  it('bounds a write by bytes, fails only the callers of a failed write, and drops an item aborted while it waits', async () => {
    const w = heldWriter();
    const gc = new GroupCommit(w.write, { maxItems: 10, maxBytes: 10, aborted, ...roomy });
    const first = gc.submit('a', 1, 1);
    await tick();
    const gone = new AbortController();
    const failing = [gc.submit('a', -1, 6), gc.submit('a', 2, 4)].map(settledCode); // 10 bytes: one write
    const dropped = gc.submit('a', 3, 1, gone.signal);
    const later = gc.submit('a', 4, 6);
    gone.abort();
    expect(await settledCode(dropped)).toBe('STORE_UNAVAILABLE');
    for (let i = 0; i < 4; i += 1) { w.release(); await tick(); }
    expect(w.writes.map(([, items]) => items)).toEqual([[1], [-1, 2], [4]]);
    expect(await first).toBe(10);
    expect(await Promise.all(failing)).toEqual(['STORE_UNAVAILABLE', 'STORE_UNAVAILABLE']);
    expect(await later).toBe(40);
    expect(await settledCode(gc.submit('a', 5, 1, gone.signal))).toBe('STORE_UNAVAILABLE');
  });

  it('bounds the items waiting per key and over all keys: past the bound a caller is refused at once, room comes back as writes finish', async () => {
    const w = heldWriter();
    const gc = new GroupCommit(w.write, { maxItems: 2, maxBytes: 1000, aborted, maxQueuedPerKey: 3, maxQueuedTotal: 5, overloaded });
    const first = gc.submit('a', 1, 1);
    await tick(); // item 1 is in the held write; nothing waits
    const waiting = [2, 3, 4].map((n) => gc.submit('a', n, 1));
    // A 4th waiting item for key a is refused without waiting for the store.
    expect(await settledCode(gc.submit('a', 5, 1))).toBe('AUDIT_BACKLOG_FULL');
    const b = [gc.submit('b', 6, 1)];
    await tick(); // b's first item is in its own held write
    b.push(gc.submit('b', 7, 1));
    const b2 = gc.submit('b', 8, 1);
    // 3 of a and 2 of b waiting: the total bound (5) refuses any key now.
    expect(await settledCode(gc.submit('c', 9, 1))).toBe('AUDIT_BACKLOG_FULL');
    w.release();
    await tick();
    // The held writes finished and the next batches were taken: room again.
    const later = gc.submit('a', 10, 1);
    for (let i = 0; i < 5; i += 1) { w.release(); await tick(); }
    expect(await Promise.all([first, ...waiting, ...b, b2, later])).toEqual([10, 20, 30, 40, 60, 70, 80, 100]);
  });
});
