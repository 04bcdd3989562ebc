// The router's projected service-account token (audience `kars-mesh`), as the kubelet writes it to the pod: re-read at
// most every `maxAgeMs`, so a rotated token is picked up without a restart. Never logged.
import { readFile } from 'node:fs/promises';

export function routerTokenFromFile(path: string, options: { maxAgeMs?: number; nowMs?: () => number } = {}): () => Promise<string> {
  const maxAgeMs = options.maxAgeMs ?? 60_000;
  const now = options.nowMs ?? Date.now;
  let cached: { token: string; atMs: number } | undefined;
  return async () => {
    if (cached && now() - cached.atMs <= maxAgeMs) return cached.token;
    const token = (await readFile(path, 'utf8')).trim();
    if (token === '') throw new Error('router token file is empty');
    cached = { token, atMs: now() };
    return token;
  };
}
