// Each dependency answers a cheap liveness call; the health route bounds it with a deadline.
export interface HealthProbe {
  readonly name: string;
  /** Resolves when the dependency answers; rejects (or is aborted) otherwise. */
  check(signal: AbortSignal): Promise<void>;
}
