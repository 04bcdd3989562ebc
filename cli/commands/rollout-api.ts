// What the `kars rollout` commands share: the common flags (--url, --key-env, --scope, --json) and one authenticated
// call to the rollout routes (an Entra token against Azure, the local master key against the local stack).
import { KarsError } from '../../core/errors';
import type { CliIo } from '../command';
import { CliUsageError } from '../command';
import { operatorAuthHeaders } from './operator-credentials';
import { parseBaseUrl } from './webhook-send';

export const ROLLOUT_COMMON_FLAGS = {
  url: { type: 'string' }, 'key-env': { type: 'string' }, scope: { type: 'string' }, json: { type: 'boolean' },
} as const;

export const ROLLOUT_COMMON_USAGE = `  --url       the Function app (default http://127.0.0.1:7071)
  --scope     Azure: the operator API scope, api://<operatorApiClientId>/.default (default $KARS_OPERATOR_SCOPE)
  --key-env   local stack (loopback --url): variable holding the local master key (default KARS_LOCAL_MASTER_KEY)
  --json      print the API's answer as is`;

const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function rolloutIdArg(positionals: readonly string[]): string {
  if (positionals.length !== 1 || !INSTANCE_ID.test(positionals[0]!)) throw new CliUsageError('give one rollout id');
  return positionals[0]!;
}

export interface RolloutApi {
  call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; text: string }>;
}

export async function rolloutApi(io: CliIo, v: Record<string, unknown>): Promise<RolloutApi> {
  const url = parseBaseUrl((v.url as string | undefined) ?? 'http://127.0.0.1:7071');
  const auth = await operatorAuthHeaders(io, url, {
    ...(v['key-env'] !== undefined ? { keyEnv: v['key-env'] as string } : {}), ...(v.scope !== undefined ? { scope: v.scope as string } : {}),
  });
  return {
    async call(method, path, body) {
      let r: Response;
      try {
        r = await fetch(`${url}/api/${path}`, {
          method,
          headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (e) {
        throw new KarsError('DEPENDENCY_UNAVAILABLE', `could not reach ${url} (${(e as { cause?: { code?: string } }).cause?.code ?? 'network error'})`);
      }
      return { status: r.status, text: await r.text() };
    },
  };
}

/** Parses flags with node:util, turning its errors into usage errors. */
export function parseFlags<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new CliUsageError(e instanceof Error ? e.message.split('\n')[0] ?? 'bad flags' : 'bad flags');
  }
}
