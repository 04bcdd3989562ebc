// `node dist/infra/k8s/render-sandbox-main.js <namespace> [--router-client-id <guid>] [--tenant-id <guid>]
// [--router-image <ref>]`: prints one sandbox's manifests (T1-E, its own namespace) for `kubectl apply -f -`, with the
// router image `kars deploy` built. Exit 0 printed, 2 usage error.
import { isKarsError } from '../../core/errors';
import { renderSandboxManifests } from './render-sandbox-namespace';
import type { RenderSandboxOptions } from './render-sandbox-namespace';

const USAGE = 'usage: render-sandbox-main <kars-namespace> [--router-client-id <guid>] [--tenant-id <guid>] [--router-image <registry>.azurecr.io/kars/router@sha256:<digest>]';

export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Parses argv (without node and script), renders, writes; returns the exit code. */
export function renderSandboxCli(argv: readonly string[], out: CliOutput): number {
  const options: RenderSandboxOptions = {};
  let namespace: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const value = argv[i + 1];
    if ((arg === '--router-client-id' || arg === '--tenant-id' || arg === '--router-image') && value !== undefined) {
      if (arg === '--router-client-id') options.routerClientId = value;
      else if (arg === '--tenant-id') options.tenantId = value;
      else options.routerImage = value;
      i += 1;
    } else if (!arg.startsWith('-') && namespace === undefined) {
      namespace = arg;
    } else {
      // The argument itself is not echoed: a mistyped command line may carry anything.
      out.stderr(`${USAGE}\n`);
      return 2;
    }
  }
  if (namespace === undefined) {
    out.stderr(`${USAGE}\n`);
    return 2;
  }
  try {
    out.stdout(renderSandboxManifests(namespace, options));
    return 0;
  } catch (e) {
    if (!isKarsError(e)) throw e;
    out.stderr(`${e.code}: ${e.message}\n${USAGE}\n`);
    return 2;
  }
}

if (require.main === module) {
  process.exitCode = renderSandboxCli(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
  });
}
