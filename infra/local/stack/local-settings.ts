// Reads the app settings the local stack runs with: local.settings.json if the user made one, else the sample,
// exactly the file `func start` would read, so both hosts see the same configuration.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalSettings {
  file: string;
  values: Record<string, string>;
  httpPort: number;
}

export function readLocalSettings(root: string): LocalSettings {
  const own = join(root, 'local.settings.json');
  const file = existsSync(own) ? own : join(root, 'local.settings.sample.json');
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, string>; Host?: { LocalHttpPort?: number } };
  return { file, values: { ...(parsed.Values ?? {}) }, httpPort: parsed.Host?.LocalHttpPort ?? 7071 };
}

/** Port of a URL or of an `Endpoint=sb://host:port;...` connection string. */
export function portOf(urlOrConnection: string | undefined, fallback: number): number {
  if (!urlOrConnection) return fallback;
  const m = /:\/\/[^/:;]+:(\d+)/.exec(urlOrConnection);
  return m ? Number(m[1]) : fallback;
}
