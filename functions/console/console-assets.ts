// The console's static files as `npm run build` leaves them (scripts/build-console.mjs → dist/console/): read once,
// served from memory. Only the names listed here are served; no path from the request reaches the file system.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KarsError } from '../../core/errors';

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
}

export const CONSOLE_ASSETS: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** dist/console next to the compiled functions, or dist/console of the checkout when running from source (tests). */
export function defaultConsoleDir(): string {
  const candidates = [resolve(__dirname, '..', '..', 'console'), resolve(__dirname, '..', '..', 'dist', 'console')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0]!;
}

export function createConsoleAssets(dir: () => string): (name: string) => ConsoleAsset | undefined {
  let loaded: Map<string, ConsoleAsset> | undefined;
  return (name) => {
    if (!Object.hasOwn(CONSOLE_ASSETS, name)) return undefined;
    if (!loaded) {
      const root = dir();
      const files = new Map<string, ConsoleAsset>();
      for (const [file, contentType] of Object.entries(CONSOLE_ASSETS)) {
        const path = join(root, file);
        if (!existsSync(path)) throw new KarsError('CONFIG_INVALID', 'the console is not built (npm run build)');
        files.set(file, { body: readFileSync(path), contentType });
      }
      loaded = files;
    }
    return loaded.get(name);
  };
}
