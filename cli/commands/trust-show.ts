// `kars trust show <did>`: an observer sandbox's effective trust in a DID, and the paths that made it
// (GET /api/trust/scores/{did}, an operator route: Entra token against Azure, the local master key locally).
import { parseArgs } from 'node:util';
import { KarsError } from '../../core/errors';
import { isEntityId } from '../../core/edge/edge-ids';
import { trustTier } from '../../core/trust/trust-tier';
import { isDid } from '../../core/trust/trust-update';
import type { CliCommand } from '../command';
import { CliUsageError } from '../command';
import { parseBaseUrl } from './webhook-send';
import { operatorAuthHeaders } from './operator-credentials';

const USAGE = `usage: kars trust show <did> --tenant <id> --observer <sandbox> [--url <url>] [--scope <s>] [--key-env <VAR>] [--json]
  --scope     Azure: the operator API scope, api://<operatorApiClientId>/.default (default $KARS_OPERATOR_SCOPE)
  --key-env   local stack (loopback --url): variable holding the local master key (default KARS_LOCAL_MASTER_KEY)
  --json      print the API's answer as is
  exit codes  0 shown, 1 refused by the API, 2 usage error`;

interface ScoreBody {
  subject: string;
  observer: string;
  version: number;
  score: number;
  source: 'direct' | 'transitive' | 'unknown';
  paths: Array<{ nodes: string[]; hops: number[]; value: number }>;
}

/** The human rendering: the score line, then one line per path. */
export function renderTrustScore(b: ScoreBody): string[] {
  const lines = [`${b.subject}: ${b.score} (${trustTier(b.score)}) from ${b.source} trust of ${b.observer}, graph version ${b.version}`];
  if (b.source === 'unknown') lines.push('  no own score and no endorsement path above the unknown score');
  for (const p of b.paths) lines.push(`  ${p.value.toString().padStart(4)}  ${p.nodes.join(' → ')}  [${p.hops.join(', ')}]`);
  return lines;
}

export const trustShowCommand: CliCommand = {
  name: 'trust show',
  summary: 'show an observer\'s trust score of a DID and the paths that made it',
  usage: USAGE,
  async run(args, io) {
    let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
    try {
      parsed = parseArgs({
        args: [...args], strict: true, allowPositionals: true,
        options: {
          tenant: { type: 'string' }, observer: { type: 'string' }, url: { type: 'string' }, 'key-env': { type: 'string' }, scope: { type: 'string' },
          json: { type: 'boolean' },
        },
      });
    } catch (e) {
      throw new CliUsageError(e instanceof Error ? e.message.split('\n')[0] ?? 'bad flags' : 'bad flags');
    }
    const { values: v, positionals } = parsed;
    const did = positionals[0];
    if (positionals.length !== 1 || !isDid(did)) throw new CliUsageError('give one DID');
    if (!isEntityId(v.tenant) || !isEntityId(v.observer)) throw new CliUsageError('--tenant and --observer are required ids');
    const url = parseBaseUrl((v.url as string | undefined) ?? 'http://127.0.0.1:7071');
    const auth = await operatorAuthHeaders(io, url, {
      ...(v['key-env'] !== undefined ? { keyEnv: v['key-env'] as string } : {}), ...(v.scope !== undefined ? { scope: v.scope as string } : {}),
    });
    const query = new URLSearchParams({ tenant: v.tenant, observer: v.observer });
    let response: Response;
    try {
      response = await fetch(`${url}/api/trust/scores/${encodeURIComponent(did)}?${query}`, { headers: auth });
    } catch (e) {
      throw new KarsError('DEPENDENCY_UNAVAILABLE', `could not reach ${url} (${(e as { cause?: { code?: string } }).cause?.code ?? 'network error'})`);
    }
    const text = await response.text();
    if (!response.ok || v.json === true) {
      io.out(response.ok ? text : `HTTP ${response.status} ${text}`);
      return response.ok ? 0 : 1;
    }
    for (const line of renderTrustScore(JSON.parse(text) as ScoreBody)) io.out(line);
    return 0;
  },
};
