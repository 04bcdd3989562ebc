// The compiled Azure entry (package.json "main", dist/functions/index.js) loads no local-stack code: neither the local
// Durable runner nor the DEV-ONLY demo hooks with their published secrets, nor anything else under infra/. The entry is
// loaded in a fresh Node process exactly as the Functions host would load it, and every project module it pulled in is
// listed. Needs `npm run build` (npm test builds first).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ENTRY = 'dist/functions/index.js';

/** Loads `modules` in a fresh process and returns every project module (outside node_modules) then loaded. */
function loadedProjectModules(modules: readonly string[]): string[] {
  const script = `
    const { relative } = require('node:path');
    for (const m of JSON.parse(process.argv[1])) require(require('node:path').resolve(m));
    const own = Object.keys(require.cache).filter((k) => !k.includes('node_modules')).map((k) => relative(process.cwd(), k));
    process.stdout.write('\\n@@' + JSON.stringify(own));`;
  const out = execFileSync(process.execPath, ['-e', script, JSON.stringify(modules)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out.slice(out.lastIndexOf('@@') + 2)) as string[];
}

/** What the Azure host must never load. */
const localCode = (loaded: readonly string[]): string[] => loaded.filter((f) => f.startsWith('dist/infra/') || /demo-hooks|durable-runner/.test(f));

describe('the Azure entry point', () => {
  it('is built', () => {
    expect(existsSync(ENTRY), `${ENTRY} missing: run npm run build`).toBe(true);
  });

  it('loads its whole route table and services, and nothing of the local stack', () => {
    const loaded = loadedProjectModules([ENTRY]);
    // The graph really was loaded: routes, services, the edge and the rollouts.
    expect(loaded).toEqual(expect.arrayContaining([
      ENTRY, 'dist/functions/routes.js', 'dist/functions/services.js', 'dist/functions/hooks/build-hook-route-deps.js',
      'dist/core/edge/run-edge-pipeline.js', 'dist/functions/rollouts/register-rollout-functions.js',
    ]));
    expect(localCode(loaded)).toEqual([]);
  });

  it('the check has teeth: the local host process loads both, and the check flags them', () => {
    // The local host's composition (infra/local/host/main.ts) imports these two besides the same entry modules.
    const loaded = loadedProjectModules([ENTRY, 'dist/infra/local/host/demo-hooks.js', 'dist/infra/local/durable/local-durable-runner.js']);
    expect(localCode(loaded)).toEqual(expect.arrayContaining(['dist/infra/local/host/demo-hooks.js', 'dist/infra/local/durable/local-durable-runner.js']));
  });
});
