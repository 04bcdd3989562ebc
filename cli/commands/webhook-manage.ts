// `kars webhook create` and `kars webhook rotate`: the hook management API (an operator route) from the command line.
// Against Azure the CLI signs in with Entra ID (operator-credentials.ts); against the local stack it sends the local
// master key. The key and the hook secret are read from environment variables named by flags, never passed as values.
import { parseArgs } from 'node:util';
import { KarsError } from '../../core/errors';
import { isEntityId, isEventName, isHookId } from '../../core/edge/edge-ids';
import { isWebhookChannel } from '../../core/webhook/verify-webhook';
import type { CliCommand, CliIo } from '../command';
import { CliUsageError } from '../command';
import { parseBaseUrl } from './webhook-send';
import { operatorAuthHeaders } from './operator-credentials';

const COMMON = `  --url          base URL of the Function app (default http://127.0.0.1:7071)
  --scope        Azure: the operator API scope, api://<operatorApiClientId>/.default (default $KARS_OPERATOR_SCOPE);
                 the token comes from az login (DefaultAzureCredential) and needs the Kars.Operator app role
  --key-env      local stack (loopback --url): variable holding the local master key (default KARS_LOCAL_MASTER_KEY)
  --secret-env   environment variable holding the hook's signing secret
  exit codes     0 done, 1 refused by the API, 2 usage error`;

const CREATE_USAGE = `usage: kars webhook create --channel <standard|github|slack|teams> --tenant <id> --sandbox <id>
       --events <name,name,...> --secret-env <VAR> [--agent <id>] [--hook <id>] [--url <url>] [--key-env <VAR>]
${COMMON}`;

const ROTATE_USAGE = `usage: kars webhook rotate --hook <id> --secret-env <VAR> [--grace-sec <n>] [--url <url>] [--key-env <VAR>]
  --grace-sec    how long the previous secret keeps verifying (default 86400; 0 retires it at once)
${COMMON}`;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

function parse(args: readonly string[], options: Record<string, { type: 'string' }>): Record<string, string | undefined> {
  try {
    return parseArgs({ args: [...args], strict: true, allowPositionals: false, options }).values as Record<string, string | undefined>;
  } catch (e) {
    throw new CliUsageError(e instanceof Error ? e.message.split('\n')[0] ?? 'bad flags' : 'bad flags');
  }
}

function fromEnv(io: CliIo, flag: string, name: string | undefined): string {
  const varName = name;
  if (varName === undefined || !ENV_NAME.test(varName)) throw new CliUsageError(`${flag} must name an environment variable`);
  const value = io.env[varName];
  if (value === undefined || value.length === 0) throw new CliUsageError(`environment variable ${varName} (${flag}) is not set`);
  return value;
}

async function callApi(io: CliIo, v: Record<string, string | undefined>, path: string, body: unknown): Promise<number> {
  const url = parseBaseUrl(v.url ?? 'http://127.0.0.1:7071');
  const auth = await operatorAuthHeaders(io, url, { ...(v['key-env'] !== undefined ? { keyEnv: v['key-env'] } : {}), ...(v.scope !== undefined ? { scope: v.scope } : {}) });
  let response: Response;
  try {
    response = await fetch(`${url}/api/manage/hooks${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new KarsError('DEPENDENCY_UNAVAILABLE', `could not reach ${url} (${(e as { cause?: { code?: string } }).cause?.code ?? 'network error'})`);
  }
  // The API never echoes secrets; its answer is printed as is.
  io.out(`HTTP ${response.status} ${await response.text()}`);
  return response.ok ? 0 : 1;
}

const COMMON_FLAGS = { url: { type: 'string' }, 'key-env': { type: 'string' }, scope: { type: 'string' }, 'secret-env': { type: 'string' } } as const;

export const webhookCreateCommand: CliCommand = {
  name: 'webhook create',
  summary: 'register a hook (tenant, sandbox, channel, allowed events, secret in the vault)',
  usage: CREATE_USAGE,
  async run(args, io) {
    const v = parse(args, { ...COMMON_FLAGS, channel: { type: 'string' }, tenant: { type: 'string' }, sandbox: { type: 'string' },
      agent: { type: 'string' }, events: { type: 'string' }, hook: { type: 'string' } });
    if (!isWebhookChannel(v.channel)) throw new CliUsageError('--channel must be one of standard, github, slack, teams');
    if (!isEntityId(v.tenant) || !isEntityId(v.sandbox)) throw new CliUsageError('--tenant and --sandbox are required ids');
    if (v.agent !== undefined && !isEntityId(v.agent)) throw new CliUsageError('--agent must be an id');
    if (v.hook !== undefined && !isHookId(v.hook)) throw new CliUsageError('--hook must be 3-63 of A-Z a-z 0-9 -');
    const events = (v.events ?? '').split(',').map((e) => e.trim()).filter((e) => e.length > 0);
    if (events.length === 0 || !events.every(isEventName)) throw new CliUsageError('--events must list event names, comma-separated');
    const body = {
      channel: v.channel, tenantId: v.tenant, sandboxId: v.sandbox, allowedEventTypes: events,
      secret: fromEnv(io, '--secret-env', v['secret-env']),
      ...(v.agent !== undefined ? { agentId: v.agent } : {}),
      ...(v.hook !== undefined ? { hookId: v.hook } : {}),
    };
    return callApi(io, v, '', body);
  },
};

export const webhookRotateCommand: CliCommand = {
  name: 'webhook rotate',
  summary: 'rotate a hook\'s secret (the previous one keeps verifying for a grace period)',
  usage: ROTATE_USAGE,
  async run(args, io) {
    const v = parse(args, { ...COMMON_FLAGS, hook: { type: 'string' }, 'grace-sec': { type: 'string' } });
    if (!isHookId(v.hook)) throw new CliUsageError('--hook must be a hook id');
    const grace = v['grace-sec'] === undefined ? 86400 : Number(v['grace-sec']);
    if (!Number.isSafeInteger(grace) || grace < 0) throw new CliUsageError('--grace-sec must be a whole number of seconds');
    const body = { secret: fromEnv(io, '--secret-env', v['secret-env']), previousGraceSec: grace };
    return callApi(io, v, `/${v.hook}/rotate`, body);
  },
};
