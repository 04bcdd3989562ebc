// Waiting enters core only through this port, so retry backoff is testable without real delays.
export type Sleep = (ms: number, options?: { abortSignal?: AbortSignal }) => Promise<void>;

export const systemSleep: Sleep = (ms, options) => new Promise<void>((resolve, reject) => {
  const signal = options?.abortSignal;
  if (signal?.aborted) { reject(signal.reason); return; }
  const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
  const onAbort = (): void => { clearTimeout(timer); reject(signal!.reason); };
  signal?.addEventListener('abort', onAbort, { once: true });
});
