// Builds a value once per process and shares the pending build with concurrent callers; a failed build (a dependency
// down at start-up) is forgotten, so the next call tries again instead of failing forever.

export interface MemoizedPromise<T> {
  /** The value: the cached build, or a new one when none succeeded or is in flight. */
  (): Promise<T>;
  /** The value once a build has succeeded; undefined before that. */
  peek(): T | undefined;
}

/**
 * @param build called on the first call and again after each failed build; a synchronous throw counts as a failure
 * @example const receipts = memoizePromise(() => openReceiptStore(config))
 */
export function memoizePromise<T>(build: () => Promise<T>): MemoizedPromise<T> {
  let pending: Promise<T> | undefined;
  let value: { v: T } | undefined;
  const get = (): Promise<T> => {
    if (pending !== undefined) return pending;
    let current: Promise<T>;
    try {
      current = build();
    } catch (e) {
      return Promise.reject(e);
    }
    pending = current;
    current.then(
      (v) => {
        if (pending === current) value = { v };
      },
      () => {
        // Only this build is forgotten: a newer one started since is kept.
        if (pending === current) pending = undefined;
      },
    );
    return current;
  };
  return Object.assign(get, { peek: () => value?.v });
}

/**
 * The same per key: one build per `keyOf(arg)`, each forgotten on failure on its own. The first argument seen for a
 * key is the one its builds use.
 */
export function memoizePromiseByKey<A, T>(build: (arg: A) => Promise<T>, keyOf: (arg: A) => string): (arg: A) => Promise<T> {
  const byKey = new Map<string, MemoizedPromise<T>>();
  return (arg) => {
    const key = keyOf(arg);
    let memo = byKey.get(key);
    if (memo === undefined) {
      memo = memoizePromise(() => build(arg));
      byKey.set(key, memo);
    }
    return memo();
  };
}
