// The router's projected service-account token (audience `kars-mesh`), read from the file the kubelet (locally: the
// stack) keeps fresh. Re-read at most every `rereadMs`, so a rotated token is picked up without a restart. Never
// logged: it authenticates the sandbox to the mesh routes.
import { promises as fs } from 'node:fs';
import { KarsError } from '../../../core/errors';

export interface RouterTokenFile {
  token(): Promise<string>;
}

export function routerTokenFile(path: string, options: { rereadMs?: number; nowMs?: () => number } = {}): RouterTokenFile {
  const rereadMs = options.rereadMs ?? 30_000;
  const now = options.nowMs ?? Date.now;
  let cached: { token: string; atMs: number } | undefined;
  return {
    async token() {
      if (cached && now() - cached.atMs < rereadMs) return cached.token;
      let text: string;
      try {
        text = (await fs.readFile(path, 'utf8')).trim();
      } catch {
        if (cached) return cached.token;
        throw new KarsError('IDENTITY_UNAVAILABLE', 'router token file unreadable');
      }
      if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text)) throw new KarsError('IDENTITY_UNAVAILABLE', 'router token file holds no token');
      cached = { token: text, atMs: now() };
      return text;
    },
  };
}
