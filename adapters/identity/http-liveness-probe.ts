// HealthProbe that sends one unauthenticated GET and counts any answer below 500 as alive: cheap, needs no token,
// and fails fast (connection refused, timeout, abort) when the dependency is down.
import * as http from 'node:http';
import * as https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { HealthProbe } from '../../core/ports/health-probe.port';

export interface HttpLivenessProbeOptions {
  /** Extra CA (the local dev CA) trusted by this probe only. */
  caCertPem?: string;
  /** Upper bound even when the caller's signal never fires (default 2000). */
  timeoutMs?: number;
}

export function createHttpLivenessProbe(name: string, url: string, options: HttpLivenessProbeOptions = {}): HealthProbe {
  const target = new URL(url);
  const timeoutMs = options.timeoutMs ?? 2000;
  const ca = options.caCertPem ? [...rootCertificates, options.caCertPem] : undefined;
  return {
    name,
    check(signal: AbortSignal): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(new Error(`${name} probe aborted`));
        const timeout = AbortSignal.timeout(timeoutMs);
        const combined = AbortSignal.any([signal, timeout]);
        const requestOptions = { method: 'GET', signal: combined, agent: false as const, ...(ca ? { ca } : {}) };
        const req = (target.protocol === 'https:' ? https : http).request(target, requestOptions, (res) => {
          res.resume();
          const status = res.statusCode ?? 0;
          // The status only, never the body: an error page might echo request details.
          if (status > 0 && status < 500) resolve();
          else reject(new Error(`${name} answered ${status}`));
        });
        req.on('error', (e: NodeJS.ErrnoException) => {
          reject(new Error(timeout.aborted ? `${name} did not answer within ${timeoutMs} ms` :
            signal.aborted ? `${name} probe aborted` : `${name} unreachable (${e.code ?? e.name})`));
        });
        req.end();
      });
    },
  };
}
