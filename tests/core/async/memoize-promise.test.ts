// One build shared by concurrent callers, kept once it succeeds, forgotten when it fails (a dependency down at
// start-up must not poison the process for its lifetime).
import { describe, expect, it } from 'vitest';
import { memoizePromise, memoizePromiseByKey } from '../../../core/async/memoize-promise';

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

describe('memoizePromise', () => {
  it('builds once and shares the build with concurrent and later callers', async () => {
    let builds = 0;
    const get = memoizePromise(async () => ++builds);
    expect(get.peek()).toBeUndefined();
    const [a, b] = await Promise.all([get(), get()]);
    expect([a, b, await get(), builds, get.peek()]).toEqual([1, 1, 1, 1, 1]);
  });

  it('forgets a failed build: the next call builds again', async () => {
    let builds = 0;
    const get = memoizePromise(async () => {
      builds += 1;
      if (builds === 1) throw new Error('cosmos down');
      return 'up';
    });
    await expect(get()).rejects.toThrow('cosmos down');
    expect(get.peek()).toBeUndefined();
    expect(await get()).toBe('up');
    expect(await get()).toBe('up');
    expect(builds).toBe(2);
  });

  it('callers that joined a failing build all see its failure; a synchronous throw is a failure too', async () => {
    const first = deferred<number>();
    let builds = 0;
    const get = memoizePromise(() => {
      builds += 1;
      if (builds === 2) throw new Error('sync');
      return builds === 1 ? first.promise : Promise.resolve(builds);
    });
    const a = get();
    const b = get();
    first.reject(new Error('down'));
    await expect(a).rejects.toThrow('down');
    await expect(b).rejects.toThrow('down');
    await expect(get()).rejects.toThrow('sync');
    expect(await get()).toBe(3);
  });

  it('per key: each key is built once and forgotten on failure on its own', async () => {
    const calls: string[] = [];
    let failHooks = true;
    const get = memoizePromiseByKey(async (spec: { id: string }) => {
      calls.push(spec.id);
      if (spec.id === 'hooks' && failHooks) throw new Error('down');
      return `${spec.id}-store`;
    }, (spec) => spec.id);
    await expect(get({ id: 'hooks' })).rejects.toThrow('down');
    expect(await get({ id: 'replay' })).toBe('replay-store');
    failHooks = false;
    expect(await get({ id: 'hooks' })).toBe('hooks-store');
    expect(await get({ id: 'replay' })).toBe('replay-store');
    expect(calls).toEqual(['hooks', 'replay', 'hooks']);
  });
});
