// Runs every dependency probe in parallel under one deadline, so a dead dependency reports "down" instead of hanging.
import type { HealthProbe } from '../ports/health-probe.port';

export type DependencyState = 'ok' | 'down';

export interface DependencyReport {
  state: DependencyState;
  ms: number;
  /** Stable reason when down: 'timeout' or 'error'. Never the error text (it can carry endpoints or keys). */
  reason?: 'timeout' | 'error';
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  dependencies: Record<string, DependencyReport>;
}

export interface CheckDependenciesOptions {
  /** Per-probe deadline. Default 2000 ms: well inside the 5 s the operators are promised. */
  timeoutMs?: number;
  now?: () => number;
}

async function runProbe(probe: HealthProbe, timeoutMs: number, now: () => number): Promise<DependencyReport> {
  const started = now();
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve('timeout');
    }, timeoutMs);
  });
  try {
    const outcome = await Promise.race([probe.check(controller.signal).then(() => 'ok' as const), deadline]);
    const ms = Math.round(now() - started);
    return outcome === 'ok' ? { state: 'ok', ms } : { state: 'down', ms, reason: 'timeout' };
  } catch {
    return { state: 'down', ms: Math.round(now() - started), reason: controller.signal.aborted ? 'timeout' : 'error' };
  } finally {
    clearTimeout(timer);
  }
}

export async function checkDependencies(probes: readonly HealthProbe[], options: CheckDependenciesOptions = {}): Promise<HealthReport> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const now = options.now ?? (() => performance.now());
  const reports = await Promise.all(probes.map((p) => runProbe(p, timeoutMs, now)));
  const dependencies: Record<string, DependencyReport> = {};
  probes.forEach((p, i) => {
    dependencies[p.name] = reports[i]!;
  });
  const status = reports.every((r) => r.state === 'ok') ? 'ok' : 'degraded';
  return { status, dependencies };
}
